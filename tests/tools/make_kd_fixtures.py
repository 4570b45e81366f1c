#!/usr/bin/python3
"""Fixtures for tests/kd/: distillation losses written the reference way in PyTorch (1.13, float64).

Run from anywhere:  /usr/bin/python3 tests/tools/make_kd_fixtures.py
Writes tests/fixtures/kd/{response,relation,feature}.txt, each made of lines
  tensor <name> <ndim> <dims...> <values...>          inputs (and regressor weights)
  case <name> <loss value> <numel> <d loss / d student input...>
Each loss below is a transcription of its reference (RepDistiller, mdistiller, the DIST
official code, torchdistill or the paper), not of the C++ code.
"""
import math
import os

import torch
import torch.nn.functional as F

import kd_fixture_writer

torch.set_default_dtype(torch.float64)


def Writer(name):
    return kd_fixture_writer.Writer(name, "make_kd_fixtures.py")


# ---- response: RepDistiller DistillKL / mdistiller kd_loss, dkd_loss, DIST official code
def kd(y_s, y_t, T):
    p_s = F.log_softmax(y_s / T, dim=1)
    p_t = F.softmax(y_t / T, dim=1)
    return F.kl_div(p_s, p_t, reduction="sum") * (T ** 2) / y_s.shape[0]


def kd_soft_ce(y_s, y_t, T):
    return -(F.softmax(y_t / T, 1) * F.log_softmax(y_s / T, 1)).sum() / y_s.shape[0] * T ** 2


def cat_mask(t, mask1, mask2):
    return torch.cat([(t * mask1).sum(1, keepdims=True), (t * mask2).sum(1, keepdims=True)], 1)


def dkd(s, t, target, alpha, beta, T):
    gt_mask = torch.zeros_like(s).scatter_(1, target.unsqueeze(1), 1)
    other_mask = 1 - gt_mask
    ps = cat_mask(F.softmax(s / T, 1), gt_mask, other_mask)
    pt = cat_mask(F.softmax(t / T, 1), gt_mask, other_mask)
    tckd = F.kl_div(torch.log(ps), pt, size_average=False) * T ** 2 / target.shape[0]
    pt2 = F.softmax(t / T - 1000.0 * gt_mask, dim=1)
    lps2 = F.log_softmax(s / T - 1000.0 * gt_mask, dim=1)
    nckd = F.kl_div(lps2, pt2, size_average=False) * T ** 2 / target.shape[0]
    return alpha * tckd + beta * nckd


def pearson(a, b, eps=1e-8):
    a = a - a.mean(1).unsqueeze(1)
    b = b - b.mean(1).unsqueeze(1)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def dist(z_s, z_t, beta=1.0, gamma=1.0, tau=1.0):
    y_s = (z_s / tau).softmax(dim=1)
    y_t = (z_t / tau).softmax(dim=1)
    inter = tau ** 2 * (1 - pearson(y_s, y_t).mean())
    intra = tau ** 2 * (1 - pearson(y_s.t(), y_t.t()).mean())
    return beta * inter + gamma * intra


def response():
    w = Writer("response.txt")
    g = torch.Generator().manual_seed(7)
    s = torch.randn(6, 5, generator=g) * 2
    t = torch.randn(6, 5, generator=g) * 2
    labels = torch.tensor([0, 3, 4, 1, 2, 3])
    w.tensor("s", s)
    w.tensor("t", t)
    w.tensor("labels", labels.double())
    for T in (1.0, 4.0):
        w.case(f"kd_T{int(T)}", lambda x: kd(x, t, T), s)
        w.case(f"kd_softce_T{int(T)}", lambda x: kd_soft_ce(x, t, T), s)
    w.case("kd_T4_sum_unscaled", lambda x: F.kl_div(F.log_softmax(x / 4, 1), F.softmax(t / 4, 1),
                                                       reduction="sum"), s)
    w.case("kd_T2_mean", lambda x: F.kl_div(F.log_softmax(x / 2, 1), F.softmax(t / 2, 1),
                                               reduction="mean") * 4, s)
    w.case("logit_mse", lambda x: F.mse_loss(x, t), s)
    w.case("dkd_default", lambda x: dkd(x, t, labels, 1.0, 8.0, 4.0), s)
    w.case("dkd_a2_b3_T2", lambda x: dkd(x, t, labels, 2.0, 3.0, 2.0), s)
    w.case("dist_default", lambda x: dist(x, t), s)
    w.case("dist_b2_g05_tau4", lambda x: dist(x, t, 2.0, 0.5, 4.0), s)


# ---- relation: RepDistiller Similarity, RKDLoss, PKT, Correlation; torchdistill CCKDLoss
def sp(f_s, f_t):
    bsz = f_s.shape[0]
    f_s = f_s.view(bsz, -1)
    f_t = f_t.view(bsz, -1)
    G_s = F.normalize(torch.mm(f_s, torch.t(f_s)))
    G_t = F.normalize(torch.mm(f_t, torch.t(f_t)))
    G_diff = G_t - G_s
    return (G_diff * G_diff).view(-1, 1).sum(0)[0] / (bsz * bsz)


def pdist(e, squared=False, eps=1e-12):
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps)
    if not squared:
        res = res.sqrt()
    res = res.clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd(f_s, f_t, w_d=25, w_a=50):
    student = f_s.view(f_s.shape[0], -1)
    teacher = f_t.view(f_t.shape[0], -1)
    with torch.no_grad():
        t_d = pdist(teacher)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(student)
    d = d / d[d > 0].mean()
    loss_d = F.smooth_l1_loss(d, t_d)
    with torch.no_grad():
        td = teacher.unsqueeze(0) - teacher.unsqueeze(1)
        norm_td = F.normalize(td, p=2, dim=2)
        t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    sd = student.unsqueeze(0) - student.unsqueeze(1)
    norm_sd = F.normalize(sd, p=2, dim=2)
    s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    loss_a = F.smooth_l1_loss(s_angle, t_angle)
    return w_d * loss_d + w_a * loss_a


def pkt(output_net, target_net, eps=0.0000001):
    output_net = output_net.view(output_net.shape[0], -1)
    target_net = target_net.view(target_net.shape[0], -1)
    on = torch.sqrt(torch.sum(output_net ** 2, dim=1, keepdim=True))
    output_net = output_net / (on + eps)
    tn = torch.sqrt(torch.sum(target_net ** 2, dim=1, keepdim=True))
    target_net = target_net / (tn + eps)
    ms = (torch.mm(output_net, output_net.transpose(0, 1)) + 1.0) / 2.0
    ts = (torch.mm(target_net, target_net.transpose(0, 1)) + 1.0) / 2.0
    ms = ms / torch.sum(ms, dim=1, keepdim=True)
    ts = ts / torch.sum(ts, dim=1, keepdim=True)
    return torch.mean(ts * torch.log((ts + eps) / (ms + eps)))


def cc_mat(x, gamma, max_p):
    rows = []
    for out in x:
        row = 1
        right = torch.matmul(out, torch.t(x))
        for p in range(1, max_p + 1):
            row += ((2 * gamma) ** p) / math.factorial(p) * (right ** p)
        row *= math.exp(-2 * gamma)
        rows.append(row.squeeze(0))
    return torch.vstack(rows)


def cc_paper(f_s, f_t, gamma=0.4, p=2):
    n = f_s.shape[0]
    s = F.normalize(f_s.view(n, -1))
    t = F.normalize(f_t.view(n, -1))
    return ((cc_mat(s, gamma, p) - cc_mat(t, gamma, p)) ** 2).sum() / n ** 2


def cc_torchdistill(f_s, f_t, gamma=0.4, p=2):
    n = f_s.shape[0]
    return torch.dist(cc_mat(f_s.view(n, -1), gamma, p), cc_mat(f_t.view(n, -1), gamma, p), 2) / n ** 2


def cc_repdistiller(f_s, f_t):
    delta = torch.abs(f_s - f_t)
    return torch.mean((delta[:-1] * delta[1:]).sum(1))


def relation():
    w = Writer("relation.txt")
    g = torch.Generator().manual_seed(11)
    fs = torch.randn(4, 3, 5, 5, generator=g)
    ft = torch.randn(4, 6, 3, 3, generator=g)
    vs = torch.randn(6, 7, generator=g)
    vt = torch.randn(6, 7, generator=g)
    for name, x in (("fs", fs), ("ft", ft), ("vs", vs), ("vt", vt)):
        w.tensor(name, x)
    w.case("sp", lambda x: sp(x, ft), fs)
    w.case("rkd_default", lambda x: rkd(x, ft), fs)
    w.case("rkd_w1_w2", lambda x: rkd(x, vt, 1.0, 2.0), vs)
    w.case("pkt", lambda x: pkt(x, ft), fs)
    w.case("cc_paper", lambda x: cc_paper(x, ft), fs)
    w.case("cc_paper_g1_p3", lambda x: cc_paper(x, vt, 1.0, 3), vs)
    w.case("cc_torchdistill", lambda x: cc_torchdistill(x * 0.3, vt * 0.3) , vs)
    w.case("cc_repdistiller", lambda x: cc_repdistiller(x, vt), vs)


# ---- feature: RepDistiller HintLoss (MSE), Attention, NSTLoss
def at_map(f, p=2):
    return F.normalize(f.pow(p).mean(1).view(f.size(0), -1))


def align(f_s, f_t):
    s_H, t_H = f_s.shape[2], f_t.shape[2]
    if s_H > t_H:
        f_s = F.adaptive_avg_pool2d(f_s, (t_H, t_H))
    elif s_H < t_H:
        f_t = F.adaptive_avg_pool2d(f_t, (s_H, s_H))
    return f_s, f_t


def at(f_s, f_t, p=2, paper=False):
    f_s, f_t = align(f_s, f_t)
    d = at_map(f_s, p) - at_map(f_t, p)
    # paper: torchdistill ATLoss(mode='paper'), the per-sample L2 norm averaged over the batch
    return torch.norm(d, dim=1).sum() / f_s.shape[0] if paper else d.pow(2).mean()


def poly_kernel(a, b):
    return (a.unsqueeze(1) * b.unsqueeze(2)).sum(-1).pow(2)


def nst(f_s, f_t, full=True):
    f_s, f_t = align(f_s, f_t)
    f_s = F.normalize(f_s.view(f_s.shape[0], f_s.shape[1], -1), dim=2)
    f_t = F.normalize(f_t.view(f_t.shape[0], f_t.shape[1], -1), dim=2)
    loss = poly_kernel(f_s, f_s).mean() - 2 * poly_kernel(f_s, f_t).mean()
    return poly_kernel(f_t, f_t).mean() + loss if full else loss


def feature():
    w = Writer("feature.txt")
    g = torch.Generator().manual_seed(23)
    fs = torch.randn(4, 3, 5, 5, generator=g)
    ft = torch.randn(4, 6, 5, 5, generator=g)
    fsmall = torch.randn(4, 2, 3, 3, generator=g)
    w1 = torch.randn(6, 3, 1, 1, generator=g) * 0.5
    b1 = torch.randn(6, generator=g) * 0.1
    w3 = torch.randn(6, 3, 3, 3, generator=g) * 0.3
    b3 = torch.randn(6, generator=g) * 0.1
    ftl = torch.randn(4, 3, 2, generator=g)
    wl = torch.randn(6, 18, generator=g) * 0.3
    bl = torch.randn(6, generator=g) * 0.1
    for name, x in (("fs", fs), ("ft", ft), ("fsmall", fsmall), ("ftl", ftl), ("w1", w1), ("b1", b1),
                    ("w3", w3), ("b3", b3), ("wl", wl), ("bl", bl)):
        w.tensor(name, x)
    w.case("hint_conv1x1", lambda x: F.mse_loss(F.conv2d(x, w1, b1), ft), fs)
    w.case("hint_conv3x3", lambda x: F.mse_loss(F.conv2d(x, w3, b3, padding=1), ft), fs)
    w.case("hint_linear", lambda x: F.mse_loss(F.linear(x.view(4, -1), wl, bl).view(4, 3, 2),
                                               ftl), fsmall)
    w.case("at_same", lambda x: at(x, ft), fs)
    w.case("at_pool_student", lambda x: at(x, fsmall), fs)
    w.case("at_pool_teacher", lambda x: at(x, fs), fsmall)
    w.case("at_paper_p4", lambda x: at(x, ft, 4, True), fs)
    w.case("nst_same", lambda x: nst(x, ft), fs)
    w.case("nst_pool_student", lambda x: nst(x, fsmall), fs)
    w.case("nst_partial", lambda x: nst(x, fsmall, False), fs)
    # RepDistiller's ConvReg (models/util.py): conv, then BatchNorm in training mode (batch
    # statistics, affine 1/0 at initialisation), then ReLU. Drawn after everything above, so the
    # earlier tensors keep their values.
    fs6 = torch.randn(4, 3, 6, 6, generator=g)
    ftr = torch.randn(4, 6, 3, 3, generator=g).relu()
    wr = torch.randn(6, 3, 3, 3, generator=g) * 0.3
    br = torch.randn(6, generator=g) * 0.1
    for name, x in (("fs6", fs6), ("ftr", ftr), ("wr", wr), ("br", br)):
        w.tensor(name, x)

    def convreg(y):
        return F.relu(F.batch_norm(y, None, None, training=True, eps=1e-5))
    w.case("hint_convreg_kernel", lambda x: F.mse_loss(convreg(F.conv2d(x, wr, br)), ftr), fs)
    w.case("hint_convreg_stride2", lambda x: F.mse_loss(convreg(F.conv2d(x, wr, br, stride=2, padding=1)), ftr),
           fs6)
    # ConvReg's third case, a student map half the teacher's: ConvTranspose2d(k4, s2, p1), weight
    # [C_s, C_t, 4, 4]. Drawn last, so the tensors above keep their values.
    fs2 = torch.randn(4, 3, 2, 2, generator=g)
    ftu = torch.randn(4, 6, 4, 4, generator=g).relu()
    wu = torch.randn(3, 6, 4, 4, generator=g) * 0.3
    bu = torch.randn(6, generator=g) * 0.1
    for name, x in (("fs2", fs2), ("ftu", ftu), ("wu", wu), ("bu", bu)):
        w.tensor(name, x)
    w.case("hint_convreg_transposed",
           lambda x: F.mse_loss(convreg(F.conv_transpose2d(x, wu, bu, stride=2, padding=1)), ftu), fs2)


if __name__ == "__main__":
    os.makedirs(kd_fixture_writer.OUT, exist_ok=True)
    response()
    relation()
    feature()
