#!/usr/bin/python3
"""Fixtures for tests/kd/test_fsp_vid_cosine.cpp and tests/kd/test_crd.cpp (PyTorch 1.13, float64).

Run from anywhere:  /usr/bin/python3 tests/tools/make_kd_more_fixtures.py
Writes tests/fixtures/kd/{fsp,vid,cosine,crd}.txt in the format of make_kd_fixtures.py
  tensor <name> <ndim> <dims...> <values...>
  case <name> <loss value> <numel> <d loss / d student input...>
The losses are transcriptions of RepDistiller (FSP, VIDLoss, CRDLoss with Embed,
ContrastMemory and ContrastLoss) and of the PyTorch knowledge-distillation tutorial
(CosineEmbeddingLoss on avg_pool1d'ed teacher features), not of the C++ code.
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import kd_fixture_writer

torch.set_default_dtype(torch.float64)


def Writer(name):
    return kd_fixture_writer.Writer(name, "make_kd_more_fixtures.py")


# ---- RepDistiller FSP
def compute_fsp(g):
    fsp_list = []
    for i in range(len(g) - 1):
        bot, top = g[i], g[i + 1]
        b_H, t_H = bot.shape[2], top.shape[2]
        if b_H > t_H:
            bot = F.adaptive_avg_pool2d(bot, (t_H, t_H))
        elif b_H < t_H:
            top = F.adaptive_avg_pool2d(top, (b_H, b_H))
        bot = bot.unsqueeze(1)
        top = top.unsqueeze(2)
        bot = bot.view(bot.shape[0], bot.shape[1], bot.shape[2], -1)
        top = top.view(top.shape[0], top.shape[1], top.shape[2], -1)
        fsp_list.append((bot * top).mean(-1))
    return fsp_list


def fsp_group(g_s, g_t):
    return [(s - t).pow(2).mean() for s, t in zip(compute_fsp(g_s), compute_fsp(g_t))]


def fsp():
    w = Writer("fsp.txt")
    g = torch.Generator().manual_seed(31)
    s = [torch.randn(3, 2, 6, 6, generator=g), torch.randn(3, 3, 3, 3, generator=g),
         torch.randn(3, 4, 3, 3, generator=g)]
    t = [torch.randn(3, 2, 4, 4, generator=g), torch.randn(3, 3, 4, 4, generator=g),
         torch.randn(3, 4, 2, 2, generator=g)]
    for i in range(3):
        w.tensor(f"s{i}", s[i])
        w.tensor(f"t{i}", t[i])
    w.tensor("g_s01", compute_fsp(s)[0].transpose(1, 2))  # [N, C1, C2] convention
    w.case("fsp_mean_d_s0", lambda x: sum(fsp_group([x, s[1], s[2]], t)) / 2, s[0])
    w.case("fsp_sum_d_s1", lambda x: sum(fsp_group([s[0], x, s[2]], t)), s[1])


# ---- RepDistiller VIDLoss
class VIDLoss(nn.Module):
    def __init__(self, num_input_channels, num_mid_channel, num_target_channels,
                 init_pred_var=5.0, eps=1e-5):
        super().__init__()

        def conv1x1(i, o):
            return nn.Conv2d(i, o, kernel_size=1, padding=0, bias=False, stride=1)

        self.regressor = nn.Sequential(conv1x1(num_input_channels, num_mid_channel), nn.ReLU(),
                                       conv1x1(num_mid_channel, num_mid_channel), nn.ReLU(),
                                       conv1x1(num_mid_channel, num_target_channels))
        self.log_scale = torch.nn.Parameter(
            np.log(np.exp(init_pred_var - eps) - 1.0) * torch.ones(num_target_channels))
        self.eps = eps

    def forward(self, input, target):
        s_H, t_H = input.shape[2], target.shape[2]
        if s_H > t_H:
            input = F.adaptive_avg_pool2d(input, (t_H, t_H))
        elif s_H < t_H:
            target = F.adaptive_avg_pool2d(target, (s_H, s_H))
        pred_mean = self.regressor(input)
        pred_var = torch.log(1.0 + torch.exp(self.log_scale)) + self.eps
        pred_var = pred_var.view(1, -1, 1, 1)
        neg_log_prob = 0.5 * ((pred_mean - target) ** 2 / pred_var + torch.log(pred_var))
        return torch.mean(neg_log_prob)


def vid():
    w = Writer("vid.txt")
    g = torch.Generator().manual_seed(37)
    m = VIDLoss(3, 4, 5)
    w.tensor("alpha_init", m.log_scale)
    fs = torch.randn(2, 3, 4, 4, generator=g)
    ft_small = torch.randn(2, 5, 2, 2, generator=g)
    ft_same = torch.randn(2, 5, 4, 4, generator=g)
    ft_big = torch.randn(2, 5, 6, 6, generator=g)
    with torch.no_grad():
        m.regressor[0].weight.copy_(torch.randn(4, 3, 1, 1, generator=g) * 0.6)
        m.regressor[2].weight.copy_(torch.randn(4, 4, 1, 1, generator=g) * 0.6)
        m.regressor[4].weight.copy_(torch.randn(5, 4, 1, 1, generator=g) * 0.6)
        m.log_scale.copy_(torch.randn(5, generator=g) * 2)
    for name, x in (("fs", fs), ("ft_small", ft_small), ("ft_same", ft_same), ("ft_big", ft_big),
                    ("w0", m.regressor[0].weight), ("w2", m.regressor[2].weight),
                    ("w4", m.regressor[4].weight), ("log_scale", m.log_scale)):
        w.tensor(name, x)
    w.case("vid_pool_student", lambda x: m(x, ft_small), fs)
    w.case("vid_same", lambda x: m(x, ft_same), fs)
    w.case("vid_pool_teacher", lambda x: m(x, ft_big), fs)
    m.zero_grad()
    m(fs, ft_same).backward()
    w.tensor("d_log_scale", m.log_scale.grad)


# ---- PyTorch KD tutorial: CosineEmbeddingLoss(student, avg_pool1d(teacher, 2), target 1)
def cosine(s, t, k=2):
    s = torch.flatten(s, 1)
    t = torch.flatten(t, 1)
    if k > 1:
        t = F.avg_pool1d(t, k)
    return nn.CosineEmbeddingLoss()(s, t, torch.ones(s.shape[0]))


def cosine_fx():
    w = Writer("cosine.txt")
    g = torch.Generator().manual_seed(41)
    fs = torch.randn(3, 8, generator=g)
    ft = torch.randn(3, 16, generator=g)
    ft_odd = torch.randn(3, 17, generator=g)
    vs = torch.randn(3, 8, generator=g)
    ms = torch.randn(3, 2, 2, 2, generator=g)
    mt = torch.randn(3, 4, 2, 2, generator=g)
    for name, x in (("fs", fs), ("ft", ft), ("ft_odd", ft_odd), ("vs", vs), ("ms", ms), ("mt", mt)):
        w.tensor(name, x)
    w.case("cos_pool2", lambda x: cosine(x, ft), fs)
    w.case("cos_pool2_odd", lambda x: cosine(x, ft_odd), fs)
    w.case("cos_pool1", lambda x: cosine(x, vs, 1), fs)
    w.case("cos_maps", lambda x: cosine(x, mt), ms)


# ---- RepDistiller CRDLoss (Embed, ContrastMemory with a given contrast_idx, ContrastLoss)
NCE_EPS = 1e-7


class Embed(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        x = self.linear(x.view(x.shape[0], -1))
        norm = x.pow(2).sum(1, keepdim=True).pow(1. / 2)
        return x.div(norm)


def contrast_loss(x, n_data):
    bsz = x.shape[0]
    m = x.size(1) - 1
    Pn = 1 / float(n_data)
    P_pos = x.select(1, 0)
    log_D1 = torch.div(P_pos, P_pos.add(m * Pn + NCE_EPS)).log_()
    P_neg = x.narrow(1, 1, m)
    log_D0 = torch.div(P_neg.clone().fill_(m * Pn), P_neg.add(m * Pn + NCE_EPS)).log_()
    return - (log_D1.sum(0) + log_D0.view(-1, 1).sum(0)) / bsz


class ContrastMemory(nn.Module):
    def __init__(self, mem1, mem2, K, T, momentum):
        super().__init__()
        self.K = K
        self.register_buffer('params', torch.tensor([K, T, -1, -1, momentum]))
        self.register_buffer('memory_v1', mem1.clone())
        self.register_buffer('memory_v2', mem2.clone())

    def forward(self, v1, v2, y, idx):
        K = int(self.params[0].item())
        T = self.params[1].item()
        Z_v1 = self.params[2].item()
        Z_v2 = self.params[3].item()
        momentum = self.params[4].item()
        batchSize = v1.size(0)
        outputSize = self.memory_v1.size(0)
        inputSize = self.memory_v1.size(1)
        weight_v1 = torch.index_select(self.memory_v1, 0, idx.view(-1)).detach()
        weight_v1 = weight_v1.view(batchSize, K + 1, inputSize)
        out_v2 = torch.exp(torch.div(torch.bmm(weight_v1, v2.view(batchSize, inputSize, 1)), T))
        weight_v2 = torch.index_select(self.memory_v2, 0, idx.view(-1)).detach()
        weight_v2 = weight_v2.view(batchSize, K + 1, inputSize)
        out_v1 = torch.exp(torch.div(torch.bmm(weight_v2, v1.view(batchSize, inputSize, 1)), T))
        if Z_v1 < 0:
            self.params[2] = out_v1.mean() * outputSize
            Z_v1 = self.params[2].clone().detach().item()
        if Z_v2 < 0:
            self.params[3] = out_v2.mean() * outputSize
            Z_v2 = self.params[3].clone().detach().item()
        out_v1 = torch.div(out_v1, Z_v1).contiguous()
        out_v2 = torch.div(out_v2, Z_v2).contiguous()
        with torch.no_grad():
            l_pos = torch.index_select(self.memory_v1, 0, y.view(-1))
            l_pos.mul_(momentum)
            l_pos.add_(torch.mul(v1, 1 - momentum))
            l_norm = l_pos.pow(2).sum(1, keepdim=True).pow(0.5)
            self.memory_v1.index_copy_(0, y, l_pos.div(l_norm))
            ab_pos = torch.index_select(self.memory_v2, 0, y.view(-1))
            ab_pos.mul_(momentum)
            ab_pos.add_(torch.mul(v2, 1 - momentum))
            ab_norm = ab_pos.pow(2).sum(1, keepdim=True).pow(0.5)
            self.memory_v2.index_copy_(0, y, ab_pos.div(ab_norm))
        return out_v1, out_v2


def crd():
    w = Writer("crd.txt")
    g = torch.Generator().manual_seed(43)
    n_data, K, feat, s_dim, t_dim, N, T, mom = 20, 4, 8, 6, 5, 3, 0.07, 0.5
    # RepDistiller's params buffer is float32 (torch.tensor of Python floats), so its forward
    # runs with T = float32(0.07) as read back by params[1].item().
    T = torch.tensor(T, dtype=torch.float32).item()
    stdv = 1. / math.sqrt(feat / 3)
    mem1 = torch.rand(n_data, feat, generator=g) * 2 * stdv - stdv
    mem2 = torch.rand(n_data, feat, generator=g) * 2 * stdv - stdv
    embed_s, embed_t = Embed(s_dim, feat), Embed(t_dim, feat)
    with torch.no_grad():
        for lin in (embed_s.linear, embed_t.linear):
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=g) * 0.5)
            lin.bias.copy_(torch.randn(lin.bias.shape, generator=g) * 0.1)
    contrast = ContrastMemory(mem1, mem2, K, T, mom)
    fs = torch.randn(N, s_dim, generator=g)
    ft = torch.randn(N, t_dim, generator=g)
    idx = torch.tensor([3, 17, 8])
    cidx = torch.cat([idx.view(-1, 1), torch.randint(0, n_data, (N, K), generator=g)], 1)
    fs2 = torch.randn(N, s_dim, generator=g)
    ft2 = torch.randn(N, t_dim, generator=g)
    idx2 = torch.tensor([8, 0, 19])
    cidx2 = torch.cat([idx2.view(-1, 1), torch.randint(0, n_data, (N, K), generator=g)], 1)
    for name, x in (("mem1", mem1), ("mem2", mem2), ("ws", embed_s.linear.weight),
                    ("bs", embed_s.linear.bias), ("wt", embed_t.linear.weight),
                    ("bt", embed_t.linear.bias), ("fs", fs), ("ft", ft), ("idx", idx.double()),
                    ("cidx", cidx.double()), ("fs2", fs2), ("ft2", ft2), ("idx2", idx2.double()),
                    ("cidx2", cidx2.double())):
        w.tensor(name, x)

    def step(name, f_s, f_t, y, c):
        x = f_s.clone().requires_grad_(True)
        embed_s.zero_grad()
        embed_t.zero_grad()
        out_s, out_t = contrast(embed_s(x), embed_t(f_t), y, c)
        loss = (contrast_loss(out_s, n_data) + contrast_loss(out_t, n_data)).sum()
        loss.backward()
        w.raw_case(name, loss, x.grad)
        w.tensor(name + "_d_ws", embed_s.linear.weight.grad)
        w.tensor(name + "_d_wt", embed_t.linear.weight.grad)
        w.tensor(name + "_d_bt", embed_t.linear.bias.grad)
        w.tensor(name + "_mem1", contrast.memory_v1)
        w.tensor(name + "_mem2", contrast.memory_v2)
        w.tensor(name + "_z", contrast.params[2:4])

    step("crd_first", fs, ft, idx, cidx)
    step("crd_second", fs2, ft2, idx2, cidx2)


if __name__ == "__main__":
    os.makedirs(kd_fixture_writer.OUT, exist_ok=True)
    fsp()
    vid()
    cosine_fx()
    crd()
