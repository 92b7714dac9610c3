#!/usr/bin/python3
"""The project's U-Net (worker/.../model/UNet.java, UNetConfig.fashionMnist) rebuilt in PyTorch, to compare
`scripts/farm bench model` with Debian's PyTorch on the same machine: `apt-get install python3-torch`, then
`python3 scripts/bench/torch-unet.py [--threads 2] [--out target/bench-torch.txt]`. Random weights; the numbers are
forward images/s at batch 1, 16, 64, 256 (with the arithmetic rate, from the matrix products' operations counted by
forward hooks), the fixed cost of a batch-1 call, and a training step (forward + backward) at batch 64 and 128; every
time is the median of its calls, as in `scripts/farm bench model`."""
import argparse, math, os, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, groups):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(emb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x))) + self.temb(e)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class Attention(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.q, self.k, self.v, self.proj = (nn.Conv2d(ch, ch, 1) for _ in range(4))

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.norm(x)
        q, k, v = (m(y).reshape(n, c, h * w) for m in (self.q, self.k, self.v))
        a = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=2)
        return x + self.proj((v @ a.transpose(1, 2)).reshape(n, c, h, w))


class UNet(nn.Module):
    def __init__(self, base=32, mults=(1, 2, 2), blocks=2, attn=(7,), groups=8, classes=10, size=28):
        super().__init__()
        emb = 4 * base
        self.base = base
        self.temb = nn.Sequential(nn.Linear(base, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_emb = nn.Linear(classes + 1, emb)
        self.conv_in = nn.Conv2d(1, base, 3, padding=1)
        self.down, chans, ch = nn.ModuleList(), [base], base
        for level, m in enumerate(mults):
            res = size >> level
            for _ in range(blocks):
                self.down.append(nn.ModuleList([ResBlock(ch, base * m, emb, groups)]
                                               + ([Attention(base * m, groups)] if res in attn else [])))
                ch = base * m
                chans.append(ch)
            if level < len(mults) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                chans.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb, groups), Attention(ch, groups), ResBlock(ch, ch, emb, groups)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(mults))):
            res = size >> level
            for _ in range(blocks + 1):
                self.up.append(nn.ModuleList([ResBlock(ch + chans.pop(), base * mults[level], emb, groups)]
                                             + ([Attention(base * mults[level], groups)] if res in attn else [])))
                ch = base * mults[level]
            if level > 0:
                self.up.append(nn.Conv2d(ch, ch, 3, padding=1))
        self.norm_out, self.conv_out = nn.GroupNorm(groups, ch), nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, t, y):
        half = self.base // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half) / (half - 1))
        args = t[:, None].float() * freqs[None]
        e = self.temb(torch.cat([torch.sin(args), torch.cos(args)], 1)) + self.class_emb(F.one_hot(y, 11).float())
        e = F.silu(e)
        h = self.conv_in(x)
        skips = [h]
        for m in self.down:
            if isinstance(m, nn.Conv2d):
                h = m(h)
            else:
                h = m[0](h, e)
                for a in m[1:]:
                    h = a(h)
            skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, e)), e)
        for m in self.up:
            if isinstance(m, nn.Conv2d):
                h = m(F.interpolate(h, scale_factor=2, mode="nearest"))
            else:
                h = m[0](torch.cat([h, skips.pop()], 1), e)
                for a in m[1:]:
                    h = a(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def median(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def flops_per_image(model):
    """2 per multiply-add of the convolutions, dense layers and attention products of one image."""
    total = [0]

    def conv(m, i, o):
        total[0] += 2 * o.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]

    def dense(m, i, o):
        total[0] += 2 * o.numel() * m.in_features

    def attention(m, i, o):
        n, c, h, w = o.shape
        total[0] += 2 * 2 * (h * w) ** 2 * c

    hooks = [m.register_forward_hook(conv if isinstance(m, nn.Conv2d) else dense if isinstance(m, nn.Linear)
                                     else attention)
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, Attention))]
    with torch.no_grad():
        model(torch.randn(1, 1, 28, 28), torch.full((1,), 500), torch.full((1,), 10))
    for h in hooks:
        h.remove()
    return total[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--out", default="target/bench-torch.txt")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = UNet()
    flops = flops_per_image(model)
    lines = [f"torch {torch.__version__}, {args.threads} threads, "
             f"{sum(p.numel() for p in model.parameters()):,} parameters, {flops / 1e6:.1f} MFLOP per image"]
    forward = {}
    for batch in (1, 16, 64, 256):
        x, t, y = torch.randn(batch, 1, 28, 28), torch.full((batch,), 500), torch.full((batch,), 10)
        with torch.no_grad():
            s = forward[batch] = median(lambda: model(x, t, y), 51 if batch == 1 else max(5, 512 // batch))
        lines.append(f"forward  batch {batch:3d}: {s * 1e3:8.2f} ms/call  {batch / s:8.1f} images/s  "
                     f"{batch * flops / s / 1e9:6.1f} GFLOP/s")
    share = forward[64] / 64
    lines.append(f"fixed cost of a batch-1 call: {(forward[1] - share) * 1e3:.2f} ms (the call less one image's share "
                 f"of a batch-64 call, {share * 1e3:.2f} ms)")
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    for batch in (64, 128):
        x, t, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 1000, (batch,)), torch.randint(0, 11, (batch,))
        noise = torch.randn_like(x)

        def step():
            opt.zero_grad()
            F.mse_loss(model(x, t, y), noise).backward()
            opt.step()
        s = median(step, 5)
        lines.append(f"training batch {batch:3d}: {s * 1e3:8.1f} ms/step  {batch / s:8.1f} images/s")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
