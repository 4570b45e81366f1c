#!/usr/bin/python3
"""Zoo fixtures of the ResNet, WideResNet and VGG families: tests/fixtures/zoo/<name>.txt for
resnet8 … resnet110, resnet8x4, resnet32x4, wrn_16_1 … wrn_40_2, vgg8 … vgg19 (read by
tests/nn/test_zoo_resnet.cpp through tests/nn/zoo_fixture.h).

Run from anywhere:  /usr/bin/python3 tests/tools/make_zoo_fixtures_resnet.py

The networks below are a PyTorch transcription of RepDistiller's models/resnet.py, models/wrn.py
and models/vgg.py (https://github.com/HobbitLong/RepDistiller): the same modules, attribute names
and registration order (hence the same state_dict keys), the same forward passes and the same
forward(x, is_feat=True, preact) feature lists. RepDistiller's own initialisation is left out:
zoo_fixture_common.py overwrites every parameter and buffer with its formula.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo_fixture_common import write_fixture


# ---- models/resnet.py (BasicBlock only; every zoo ResNet uses it)

def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class ResBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, downsample=None, is_last=False):
        super().__init__()
        self.is_last = is_last
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out = out + (x if self.downsample is None else self.downsample(x))
        pre = out
        out = F.relu(out)
        return (out, pre) if self.is_last else out


class ResNet(nn.Module):
    def __init__(self, depth, filters, num_classes=100):
        super().__init__()
        assert (depth - 2) % 6 == 0
        n = (depth - 2) // 6
        self.inplanes = filters[0]
        self.conv1 = nn.Conv2d(3, filters[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(filters[1], n)
        self.layer2 = self._make_layer(filters[2], n, stride=2)
        self.layer3 = self._make_layer(filters[3], n, stride=2)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(filters[3], num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [ResBasicBlock(self.inplanes, planes, stride, downsample, is_last=(blocks == 1))]
        self.inplanes = planes
        for i in range(1, blocks):
            layers.append(ResBasicBlock(self.inplanes, planes, is_last=(i == blocks - 1)))
        return nn.Sequential(*layers)

    def forward(self, x, is_feat=False, preact=False):
        x = self.relu(self.bn1(self.conv1(x)))
        f0 = x
        x, f1_pre = self.layer1(x)
        f1 = x
        x, f2_pre = self.layer2(x)
        f2 = x
        x, f3_pre = self.layer3(x)
        f3 = x
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        f4 = x
        x = self.fc(x)
        if is_feat:
            return ([f0, f1_pre, f2_pre, f3_pre, f4] if preact else [f0, f1, f2, f3, f4]), x
        return x


# ---- models/wrn.py (dropRate 0)

class WrnBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=3, stride=1, padding=1, bias=False)
        self.equalInOut = cin == cout
        self.convShortcut = None if self.equalInOut else nn.Conv2d(
            cin, cout, kernel_size=1, stride=stride, padding=0, bias=False)

    def forward(self, x):
        a = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(a))))
        return torch.add(x if self.equalInOut else self.convShortcut(a), out)


class NetworkBlock(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(
            *[WrnBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, num_classes=100):
        super().__init__()
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        assert (depth - 4) % 6 == 0
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)
        self.nChannels = ch[3]

    def forward(self, x, is_feat=False, preact=False):
        out = self.conv1(x)
        f0 = out
        out = self.block1(out)
        f1 = out
        out = self.block2(out)
        f2 = out
        out = self.block3(out)
        f3 = out
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, 8)
        out = out.view(-1, self.nChannels)
        f4 = out
        out = self.fc(out)
        if is_feat:
            if preact:
                f1 = self.block2.layer[0].bn1(f1)
                f2 = self.block3.layer[0].bn1(f2)
                f3 = self.bn1(f3)
            return [f0, f1, f2, f3, f4], out
        return out


# ---- models/vgg.py (batch_norm=True: model_dict's vggD is vggD_bn)

VGG_CFG = {
    8: [[64], [128], [256], [512], [512]],
    11: [[64], [128], [256, 256], [512, 512], [512, 512]],
    13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
}


def vgg_block(widths, cin):
    layers = []
    for v in widths:
        layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.BatchNorm2d(v),
                   nn.ReLU(inplace=True)]
        cin = v
    return nn.Sequential(*layers[:-1])


class VGG(nn.Module):
    def __init__(self, cfg, num_classes=100):
        super().__init__()
        self.block0 = vgg_block(cfg[0], 3)
        self.block1 = vgg_block(cfg[1], cfg[0][-1])
        self.block2 = vgg_block(cfg[2], cfg[1][-1])
        self.block3 = vgg_block(cfg[3], cfg[2][-1])
        self.block4 = vgg_block(cfg[4], cfg[3][-1])
        self.pool0 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool3 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool4 = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(512, num_classes)

    def forward(self, x, is_feat=False, preact=False):
        h = x.shape[2]
        x = F.relu(self.block0(x))
        f0 = x
        x = self.pool0(x)
        x = self.block1(x)
        f1_pre = x
        x = F.relu(x)
        f1 = x
        x = self.pool1(x)
        x = self.block2(x)
        f2_pre = x
        x = F.relu(x)
        f2 = x
        x = self.pool2(x)
        x = self.block3(x)
        f3_pre = x
        x = F.relu(x)
        f3 = x
        if h == 64:
            x = self.pool3(x)
        x = self.block4(x)
        f4_pre = x
        x = F.relu(x)
        f4 = x
        x = self.pool4(x)
        x = x.view(x.size(0), -1)
        f5 = x
        x = self.classifier(x)
        if is_feat:
            if preact:
                return [f0, f1_pre, f2_pre, f3_pre, f4_pre, f5], x
            return [f0, f1, f2, f3, f4, f5], x
        return x


SMALL, X4 = [16, 16, 32, 64], [32, 64, 128, 256]
MODELS = {f"resnet{d}": (lambda d=d: ResNet(d, SMALL)) for d in (8, 14, 20, 32, 44, 56, 110)}
MODELS["resnet8x4"] = lambda: ResNet(8, X4)
MODELS["resnet32x4"] = lambda: ResNet(32, X4)
for d, w in ((16, 1), (16, 2), (40, 1), (40, 2)):
    MODELS[f"wrn_{d}_{w}"] = lambda d=d, w=w: WideResNet(d, w)
for d in (8, 11, 13, 16, 19):
    MODELS[f"vgg{d}"] = lambda d=d: VGG(VGG_CFG[d])


def feats(model, x, preact):
    return model(x, is_feat=True, preact=preact)


if __name__ == "__main__":
    for name, make in MODELS.items():
        write_fixture(name, make, feats)
