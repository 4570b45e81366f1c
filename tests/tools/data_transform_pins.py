#!/usr/bin/python3
"""Prints the random draws pinned in tests/data/test_transforms.cpp, computed independently of
Retort: std::mt19937_64 written out from the C++ standard's definition (checked against its
required 10000th output), Retort's integer rule (rejection below the top partial block of 2^64,
then r mod n) and uniform rule (top 53 bits · 2^-53), see tensor/random.cpp.

usage: /usr/bin/python3 tests/tools/data_transform_pins.py
"""

MASK = 2**64 - 1


class MT19937_64:
    def __init__(self, seed):
        self.mt = [seed & MASK] + [0] * 311
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK
        self.i = 312

    def __call__(self):
        if self.i >= 312:
            for k in range(312):
                x = (self.mt[k] & 0xFFFFFFFF80000000) | (self.mt[(k + 1) % 312] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                self.mt[k] = self.mt[(k + 156) % 312] ^ xa
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK


def below(g, n):
    limit = MASK - MASK % n
    while True:
        r = g()
        if r < limit:
            return r % n


def uniform(g):
    return (g() >> 11) * 2.0**-53


def main():
    check = MT19937_64(5489)
    for _ in range(9999):
        check()
    assert check() == 9981545732273789042, "mt19937_64 does not match the standard"

    g = MT19937_64(11)  # random_crop of [6, 2, 8, 8], size 8, padding 4: randint(0, 9) per sample
    print("random_crop tops ", [below(g, 9) for _ in range(6)])
    print("random_crop lefts", [below(g, 9) for _ in range(6)])
    g = MT19937_64(5)  # random_hflip of 9 samples, p = 0.5
    print("random_hflip flips", [uniform(g) < 0.5 for _ in range(9)])


if __name__ == "__main__":
    main()
