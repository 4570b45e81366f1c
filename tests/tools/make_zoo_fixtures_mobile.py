#!/usr/bin/python3
"""Zoo fixtures of the mobile families: tests/fixtures/zoo/{MobileNetV2,ShuffleV1,ShuffleV2}.txt.

Run from anywhere:  /usr/bin/python3 tests/tools/make_zoo_fixtures_mobile.py
The networks below transcribe RepDistiller's models/mobilenetv2.py (mobile_half = MobileNetV2(T=6,
W=0.5)), models/ShuffleNetv1.py (ShuffleV1) and models/ShuffleNetv2.py (ShuffleV2, net_size 1):
the same modules, registration order, forward and is_feat/preact feature lists. Weights and input
come from the formula of zoo_fixture_common.py, so initialisation does not matter here.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo_fixture_common import write_fixture


# ---- MobileNetV2 (RepDistiller models/mobilenetv2.py)
def bn_relu_conv(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        mid = cin * t
        self.conv = nn.Sequential(
            nn.Conv2d(cin, mid, 1, 1, 0, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, T, num_classes, width_mult):
        super().__init__()
        setting = [[1, 16, 1, 1], [T, 24, 2, 1], [T, 32, 3, 2], [T, 64, 4, 2], [T, 96, 3, 1],
                   [T, 160, 3, 2], [T, 320, 1, 1]]
        cin = int(32 * width_mult)
        self.conv1 = bn_relu_conv(3, cin, 3, 2)
        self.blocks = nn.ModuleList([])
        for t, c, n, s in setting:
            cout = int(c * width_mult)
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(cin, cout, stride, t))
                cin = cout
            self.blocks.append(nn.Sequential(*layers))
        last = int(1280 * width_mult) if width_mult > 1.0 else 1280
        self.conv2 = bn_relu_conv(cin, last, 1, 1)
        self.classifier = nn.Sequential(nn.Linear(last, num_classes))
        self.avgpool = nn.AvgPool2d(32 // (32 // 2), ceil_mode=True)

    def forward(self, x, is_feat=False, preact=False):
        out = self.conv1(x)
        feats = [out]
        for i, b in enumerate(self.blocks):
            out = b(out)
            if i in (1, 2, 4, 6):
                feats.append(out)
        out = self.avgpool(self.conv2(out))
        out = out.view(out.size(0), -1)
        feats.append(out)
        out = self.classifier(out)
        return (feats, out) if is_feat else out


# ---- ShuffleNetV1 (RepDistiller models/ShuffleNetv1.py)
def shuffle(x, g):
    n, c, h, w = x.size()
    return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleBlock(nn.Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        return shuffle(x, self.groups)


class Bottleneck(nn.Module):
    def __init__(self, cin, cout, stride, groups, is_last):
        super().__init__()
        self.is_last, self.stride = is_last, stride
        mid = int(cout / 4)
        g = 1 if cin == 24 else groups
        self.conv1 = nn.Conv2d(cin, mid, kernel_size=1, groups=g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.shuffle1 = ShuffleBlock(g)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, kernel_size=1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        out = self.shuffle1(F.relu(self.bn1(self.conv1(x))))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        pre = torch.cat([out, res], 1) if self.stride == 2 else out + res
        out = F.relu(pre)
        return (out, pre) if self.is_last else out


class ShuffleNetV1(nn.Module):
    def __init__(self, num_classes, out_planes=(240, 480, 960), num_blocks=(4, 8, 4), groups=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.cin = 24
        self.layer1 = self._make_layer(out_planes[0], num_blocks[0], groups)
        self.layer2 = self._make_layer(out_planes[1], num_blocks[1], groups)
        self.layer3 = self._make_layer(out_planes[2], num_blocks[2], groups)
        self.linear = nn.Linear(out_planes[2], num_classes)

    def _make_layer(self, cout, n, groups):
        layers = []
        for i in range(n):
            cat = self.cin if i == 0 else 0
            layers.append(Bottleneck(self.cin, cout - cat, 2 if i == 0 else 1, groups, i == n - 1))
            self.cin = cout
        return nn.Sequential(*layers)

    def forward(self, x, is_feat=False, preact=False):
        out = F.relu(self.bn1(self.conv1(x)))
        post, pre = [out], [out]
        for layer in (self.layer1, self.layer2, self.layer3):
            out, p = layer(out)
            post.append(out)
            pre.append(p)
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        post.append(out)
        pre.append(out)
        out = self.linear(out)
        return ((pre if preact else post), out) if is_feat else out


# ---- ShuffleNetV2 (RepDistiller models/ShuffleNetv2.py)
class BasicBlock(nn.Module):
    def __init__(self, cin, is_last):
        super().__init__()
        self.is_last = is_last
        c = int(cin * 0.5)
        self.conv1 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, stride=1, padding=1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        c = int(x.size(1) * 0.5)
        x1, x2 = x[:, :c, :, :], x[:, c:, :, :]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        pre = self.bn3(self.conv3(out))
        out = F.relu(pre)
        pre = torch.cat([x1, pre], 1)
        out = shuffle(torch.cat([x1, out], 1), 2)
        return (out, pre) if self.is_last else out


class DownBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.conv1 = nn.Conv2d(cin, cin, kernel_size=3, stride=2, padding=1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = nn.Conv2d(cin, mid, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(cin, mid, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, kernel_size=3, stride=2, padding=1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        out1 = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(out2)))))
        return shuffle(torch.cat([out1, out2], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, num_classes, out_channels=(116, 232, 464, 1024), num_blocks=(3, 7, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.cin = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, cout, n):
        layers = [DownBlock(self.cin, cout)]
        for i in range(n):
            layers.append(BasicBlock(cout, i == n - 1))
            self.cin = cout
        return nn.Sequential(*layers)

    def forward(self, x, is_feat=False, preact=False):
        out = F.relu(self.bn1(self.conv1(x)))
        post, pre = [out], [out]
        for layer in (self.layer1, self.layer2, self.layer3):
            out, p = layer(out)
            post.append(out)
            pre.append(p)
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        post.append(out)
        pre.append(out)
        out = self.linear(out)
        return ((pre if preact else post), out) if is_feat else out


MODELS = {"MobileNetV2": lambda: MobileNetV2(6, 100, 0.5),
          "ShuffleV1": lambda: ShuffleNetV1(100),
          "ShuffleV2": lambda: ShuffleNetV2(100)}


def feats(model, x, preact):
    return model(x, is_feat=True, preact=preact)


if __name__ == "__main__":
    for name, make in MODELS.items():
        write_fixture(name, make, feats)
