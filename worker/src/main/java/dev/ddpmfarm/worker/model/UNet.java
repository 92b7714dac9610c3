package dev.ddpmfarm.worker.model;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The DDPM U-Net (Ho et al. 2020, Appendix B; improved-diffusion's {@code unet.py} shape), written once over a
 * tensor backend {@link Ops} so that the same network runs as a SameDiff graph (the reference), as eager ND4J calls
 * with a tape (training), in plain Java on the Vector API (inference) and as a shape walk (the parameter table).
 * Images are {@code [N, C, H, W]} (the Vector API backend keeps its own layout).
 *
 * <p>Inputs: x_t {@code [N, C, H, W]}; the sinusoidal embedding of t {@code [N, baseChannels]}
 * ({@link TimeEmbedding}); for conditional models a one-hot label {@code [N, numClasses + 1]} whose last column is
 * the "null" label of classifier-free guidance. Output: ε_θ {@code [N, C, H, W]}.
 */
public final class UNet {

    /** The tensor operations the network is made of. Parameters are named; each backend owns their storage. */
    public interface Ops<T> {
        /** k×k convolution, padding (k-1)/2, with {@code name.w [k, k, in, out]} and {@code name.b [out]}. */
        T conv(T x, String name, int inChannels, int outChannels, int kernel, int stride);

        /** GroupNorm over {@code groups} groups of x {@code [N, channels, res, res]}, affine {@code name.g, name.b [C]}. */
        T groupNorm(T x, String name, int groups, int channels, int res);

        /** x · sigmoid(x). */
        T silu(T x);

        /** silu(groupNorm(x)), which a backend may compute in one pass. */
        default T groupNormSilu(T x, String name, int groups, int channels, int res) {
            return silu(groupNorm(x, name, groups, channels, res));
        }

        /** groupNormSilu(x + v), v {@code [N, C]} broadcast over H and W, which a backend may compute in one pass. */
        default T addGroupNormSilu(T x, T v, String name, int groups, int channels, int res) {
            return groupNormSilu(addPerChannel(x, v, channels), name, groups, channels, res);
        }

        /** x {@code [N, in]} · {@code name.w [in, out]} + {@code name.b [out]}. */
        T dense(T x, String name, int in, int out);

        T add(T a, T b);

        /** x {@code [N, C, H, W]} + v {@code [N, C]} broadcast over H and W. */
        T addPerChannel(T x, T v, int channels);

        /** Concatenation along the channel axis. */
        T concatChannels(T a, T b);

        /** Nearest-neighbour 2× upsampling. */
        T upsample(T x);

        /** softmax(qᵀk / √C) applied to v, over the {@code res²} positions; q, k, v {@code [N, C, res, res]}. */
        T attend(T q, T k, T v, int channels, int res);
    }

    private UNet() {
    }

    /** ε_θ(x_t, t, y); {@code classOneHot} is ignored (may be null) for unconditional models. */
    public static <T> T epsilon(UNetConfig cfg, Ops<T> ops, T x, T timeSinusoid, T classOneHot) {
        int base = cfg.baseChannels();
        int embCh = cfg.timeEmbeddingChannels();
        T emb = ops.dense(ops.silu(ops.dense(timeSinusoid, "temb.dense0", base, embCh)), "temb.dense1", embCh, embCh);
        if (cfg.conditional()) {
            emb = ops.add(emb, ops.dense(classOneHot, "class_emb", cfg.numClasses() + 1, embCh));
        }
        T embAct = ops.silu(emb);

        Deque<T> skips = new ArrayDeque<>();
        Deque<Integer> skipChannels = new ArrayDeque<>();
        T h = ops.conv(x, "conv_in", cfg.imageChannels(), base, 3, 1);
        int ch = base;
        skips.push(h);
        skipChannels.push(ch);
        for (int level = 0; level < cfg.levels(); level++) {
            int res = cfg.resolution(level);
            for (int j = 0; j < cfg.numResBlocks(); j++) {
                String name = "down." + level + "." + j;
                h = resBlock(cfg, ops, h, embAct, name + ".res", ch, cfg.channels(level), res);
                ch = cfg.channels(level);
                if (cfg.attentionAt(level)) {
                    h = attention(cfg, ops, h, name + ".attn", ch, res);
                }
                skips.push(h);
                skipChannels.push(ch);
            }
            if (level < cfg.levels() - 1) {
                h = ops.conv(h, "down." + level + ".downsample", ch, ch, 3, 2);
                skips.push(h);
                skipChannels.push(ch);
            }
        }

        int lowest = cfg.resolution(cfg.levels() - 1);
        h = resBlock(cfg, ops, h, embAct, "mid.res0", ch, ch, lowest);
        h = attention(cfg, ops, h, "mid.attn", ch, lowest);
        h = resBlock(cfg, ops, h, embAct, "mid.res1", ch, ch, lowest);

        for (int level = cfg.levels() - 1; level >= 0; level--) {
            int res = cfg.resolution(level);
            for (int j = 0; j <= cfg.numResBlocks(); j++) {
                String name = "up." + level + "." + j;
                int skipCh = skipChannels.pop();
                h = ops.concatChannels(h, skips.pop());
                h = resBlock(cfg, ops, h, embAct, name + ".res", ch + skipCh, cfg.channels(level), res);
                ch = cfg.channels(level);
                if (cfg.attentionAt(level)) {
                    h = attention(cfg, ops, h, name + ".attn", ch, res);
                }
            }
            if (level > 0) {
                h = ops.conv(ops.upsample(h), "up." + level + ".upsample", ch, ch, 3, 1);
            }
        }
        h = ops.groupNormSilu(h, "norm_out", cfg.groups(), ch, cfg.imageSize());
        return ops.conv(h, "conv_out", ch, cfg.imageChannels(), 3, 1);
    }

    /** Residual block: GroupNorm, SiLU, conv; plus the projected time embedding; GroupNorm, SiLU, conv; skip. */
    private static <T> T resBlock(UNetConfig cfg, Ops<T> ops, T x, T embAct, String name, int in, int out, int res) {
        T h = ops.conv(ops.groupNormSilu(x, name + ".norm1", cfg.groups(), in, res), name + ".conv1", in, out, 3, 1);
        T emb = ops.dense(embAct, name + ".temb", cfg.timeEmbeddingChannels(), out);
        h = ops.conv(ops.addGroupNormSilu(h, emb, name + ".norm2", cfg.groups(), out, res), name + ".conv2", out, out,
                3, 1);
        T skip = in == out ? x : ops.conv(x, name + ".skip", in, out, 1, 1);
        return ops.add(skip, h);
    }

    /** Single-head self-attention over all positions, with a residual connection. */
    private static <T> T attention(UNetConfig cfg, Ops<T> ops, T x, String name, int ch, int res) {
        T h = ops.groupNorm(x, name + ".norm", cfg.groups(), ch, res);
        T q = ops.conv(h, name + ".q", ch, ch, 1, 1);
        T k = ops.conv(h, name + ".k", ch, ch, 1, 1);
        T v = ops.conv(h, name + ".v", ch, ch, 1, 1);
        return ops.add(x, ops.conv(ops.attend(q, k, v, ch, res), name + ".proj", ch, ch, 1, 1));
    }
}
