using NativeIg.Autodiff;
using NativeIg.Tensors;

namespace NativeIg.Onnx;

/// <summary>Convolutions and what folds into them: the filter layouts, groups and dilations, batch norms, zero pads, window geometry.</summary>
internal sealed partial class OnnxGraphPlan
{
    /// <summary>The most values a filter made dense (dilations, groups) may hold: 2^26 floats, 256 MiB.</summary>
    private const long MaxDenseFilterElements = 1L << 26;

    private Step Conv(OnnxNode node, OnnxNode? batchNorm, long[]? extraPads, Dictionary<string, OnnxTensor> constants, Dictionary<string, List<OnnxNode>> consumers,
        string graphOutput, HashSet<OnnxNode> fusedRelus, ComputeDevice? device)
    {
        var w = Constant(node, constants, 1, "filter");
        if (w.Floats is null || w.Dims.Length != 4) throw Error(node, $"the filter must be a float [CO, CI, KH, KW] tensor; it is {w.DataType} [{string.Join(", ", w.Dims)}].");
        int co = (int)w.Dims[0], ci = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
        long group = node.Int("group", 1);
        if (group is < 1 or > 1 << 20) throw Error(node, $"group = {group} is out of range (1…{1 << 20}).");
        // group = channels with one input channel per filter is a depthwise convolution (MobileNet's), which has its own kernels.
        bool depthwise = group > 1 && group == co && ci == 1;
        // kernel_shape is optional, but when present it must agree with the filter (ONNX Runtime refuses the model otherwise).
        if (node.Ints("kernel_shape") is { } kernelShape && (kernelShape.Length != 2 || kernelShape[0] != kh || kernelShape[1] != kw))
            throw Error(node, $"kernel_shape [{string.Join(", ", kernelShape)}] contradicts the {kh}×{kw} filter [{string.Join(", ", w.Dims)}].");
        var filter = w.Floats;
        var dilations = node.Ints("dilations") ?? [1, 1];
        if (dilations.Length != 2 || dilations.Any(d => d < 1 || d > 64)) throw Error(node, $"dilations [{string.Join(", ", dilations)}] must be two values in 1…64.");
        if (dilations[0] != 1 || dilations[1] != 1)
        {
            // A dilated k×k filter is the dense (k − 1)·d + 1 filter with zeros between its taps: the same sums, more multiply-adds.
            int dh = (int)dilations[0], dw = (int)dilations[1], khd = (kh - 1) * dh + 1, kwd = (kw - 1) * dw + 1;
            // Sized before it is allocated: a 5×5 filter with dilations [64, 64] would be 257×257 per channel pair.
            if (khd > MaxWindow || kwd > MaxWindow || (long)co * ci * khd * kwd > MaxDenseFilterElements)
                throw new OnnxUnsupportedException($"{_source}: {node}: dilations [{dh}, {dw}] make the {kh}×{kw} filter a {khd}×{kwd} one " +
                    $"({(long)co * ci * khd * kwd:N0} values, over the {MaxDenseFilterElements:N0} the engine densifies).");
            var dense = new float[co * ci * khd * kwd];
            for (int oi = 0; oi < co * ci; oi++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++) dense[(oi * khd + y * dh) * kwd + x * dw] = filter[(oi * kh + y) * kw + x];
            (filter, kh, kw) = (dense, khd, kwd);
            _notes.Add($"{_source}: {node}: dilations [{dh}, {dw}] run as a {khd}×{kwd} filter with zeros between the taps.");
        }
        if (group != 1 && !depthwise)
        {
            // Groups as one dense convolution whose filter is zero outside each group's block: the same sums, group× the multiply-adds.
            if (group < 1 || co % group != 0) throw Error(node, $"group = {group} does not divide the {co} output channels.");
            int perGroup = co / (int)group, dense = ci * (int)group;
            if ((long)co * dense * kh * kw > MaxDenseFilterElements)
                throw new OnnxUnsupportedException($"{_source}: {node}: group = {group} as one dense filter would hold {(long)co * dense * kh * kw:N0} values, over the {MaxDenseFilterElements:N0} the engine densifies.");
            var blocks = new float[co * dense * kh * kw];
            for (int o = 0; o < co; o++)
                for (int i = 0; i < ci; i++)
                    Array.Copy(filter, (o * ci + i) * kh * kw, blocks, (o * dense + o / perGroup * ci + i) * kh * kw, kh * kw);
            (filter, ci) = (blocks, dense);
            _notes.Add($"{_source}: {node}: group = {group} runs as one dense convolution with a block-diagonal filter ({group}× the multiply-adds).");
        }
        var (sh, sw) = Window(node, "strides", [1, 1]);
        var (autoPad, pads) = Pads(node);
        if (extraPads is not null)
        {
            if (autoPad != "NOTSET") throw new OnnxUnsupportedException($"{_source}: {node}: a Pad before a convolution with auto_pad {autoPad} is not supported.");
            pads = pads.Zip(extraPads, (a, b) => a + b).ToArray();
            if (pads.Any(p => p > MaxWindow)) throw Error(node, $"the pads with the Pad before it, [{string.Join(", ", pads)}], exceed {MaxWindow}.");
        }
        // OIHW → HWIO: the filter becomes a plain [KH·KW·CI, CO] GEMM operand (depthwise: [KH, KW, C], ci = 1).
        var hwio = new float[filter.Length];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ci; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        hwio[((y * kw + x) * ci + i) * co + o] = filter[((o * ci + i) * kh + y) * kw + x];
        float[]? biasValues = null;
        if (node.Inputs.Length > 2 && node.Inputs[2].Length > 0)
        {
            var b = Constant(node, constants, 2, "bias");
            if (b.Floats is null || b.ElementCount != co) throw Error(node, $"the bias has {b.ElementCount} values for {co} output channels.");
            biasValues = (float[])b.Floats.Clone();
        }
        string output = node.Outputs[0];
        if (batchNorm is not null)
        {
            // y = γ·(conv(x) + b − μ)/√(σ² + ε) + β: scale each output channel's filter by s = γ/√(σ² + ε), and b' = (b − μ)·s + β.
            var (scale, shift) = BatchNormScaleShift(batchNorm, constants, co);
            for (int i = 0; i < hwio.Length; i++) hwio[i] *= scale[i % co];
            biasValues ??= new float[co];
            for (int o = 0; o < co; o++) biasValues[o] = biasValues[o] * scale[o] + shift[o];
            output = batchNorm.Outputs[0];
        }
        var weight = Parameter(hwio, depthwise ? [kh, kw, co] : [kh, kw, ci, co], node.Name + "/weight", device);
        var bias = biasValues is null ? null : Parameter(biasValues, [co], node.Name + "/bias", device);
        // A ReLU that is the convolution's only reader runs fused in its epilogue.
        bool relu = false;
        if (!depthwise && output != graphOutput && consumers.TryGetValue(output, out var readers) && readers.Count == 1 && readers[0].OpType == "Relu")
        {
            relu = true;
            fusedRelus.Add(readers[0]);
            _alias[readers[0].Outputs[0]] = output;
        }
        return new Step(node, [Resolve(node.Inputs[0])], output, (t, a) =>
        {
            var v = a[0].Value;
            int inputs = depthwise ? co : ci;
            if (v.Rank != 4 || v.Dim(3) != inputs) throw new ArgumentException($"input shape {Describe(v)} does not have the filter's {inputs} input channels.");
            var g = Geometry(v, kh, kw, sh, sw, autoPad, pads, ceil: false);
            if (depthwise)
            {
                Count(node.Name, (long)g.OutH * g.OutW * co * kh * kw); // per image
                return t.DepthwiseConv2d(a[0], weight, bias, g, node.Name);
            }
            Count(node.Name, (long)g.OutH * g.OutW * co * kh * kw * ci); // per image
            return t.Conv2d(a[0], weight, bias, g, relu, node.Name);
        }, "conv");
    }

    /// <summary>Per channel s = γ/√(σ² + ε) and t = β − μ·s, so that BatchNormalization(x) = s·x + t.</summary>
    private (float[] Scale, float[] Shift) BatchNormScaleShift(OnnxNode bn, IReadOnlyDictionary<string, OnnxTensor> constants, int channels)
    {
        if (bn.Int("spatial", 1) != 1) throw new OnnxUnsupportedException($"{_source}: {bn}: spatial = 0 (per-activation statistics) is not supported.");
        if (bn.Outputs.Length > 1 && bn.Outputs.Skip(1).Any(o => o.Length > 0)) throw new OnnxUnsupportedException($"{_source}: {bn}: training-mode outputs (running statistics) are not supported.");
        float epsilon = bn.Float("epsilon", 1e-5f);
        var parts = new[] { "scale", "bias", "mean", "variance" }.Select((what, i) =>
        {
            var c = Constant(bn, constants, i + 1, what);
            return c.Floats is { } f && f.Length == channels ? f : throw Error(bn, $"its {what} has {c.ElementCount} values for {channels} channels.");
        }).ToArray();
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double s = parts[0][c] / Math.Sqrt((double)parts[3][c] + epsilon);
            scale[c] = (float)s;
            shift[c] = (float)(parts[1][c] - parts[2][c] * s);
            // A negative variance (or overflow) would make every output NaN without a word.
            if (!float.IsFinite(scale[c]) || !float.IsFinite(shift[c]))
                throw Error(bn, $"channel {c}: scale {parts[0][c]}, variance {parts[3][c]} and epsilon {epsilon} give a non-finite factor (is the variance negative?).");
        }
        return (scale, shift);
    }

    /// <summary>A BatchNormalization that could not be folded: the per-channel affine map s·x + t.</summary>
    private Step BatchNormalization(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants, ComputeDevice? device)
    {
        int channels = (int)Constant(node, constants, 1, "scale").ElementCount;
        var (scale, shift) = BatchNormScaleShift(node, constants, channels);
        var identity = Enumerable.Range(0, channels).ToArray();
        return new Step(node, [Resolve(node.Inputs[0])], node.Outputs[0], (t, a) =>
        {
            if (a[0].Value.Dim(a[0].Value.Rank - 1) != channels) throw new ArgumentException($"input {Describe(a[0].Value)} does not have the {channels} channels of the statistics.");
            return t.ChannelAffine(a[0], identity, scale, shift, node.Name);
        }, "batchnorm");
    }

    /// <summary>A zero Pad's H and W pads as [top, left, bottom, right] (NCHW pads [n, c, h, w, n, c, h, w]).</summary>
    private long[] PadsOf(OnnxNode pad, IReadOnlyDictionary<string, OnnxTensor> constants)
    {
        if ((pad.String("mode") ?? "constant") != "constant") throw new OnnxUnsupportedException($"{_source}: {pad}: only constant padding is supported.");
        var pads = pad.Ints("pads") ?? Constant(pad, constants, 1, "pads").Integers ?? [];
        float value = pad.Attributes.ContainsKey("value") ? pad.Float("value", 0f)
            : pad.Inputs.Length > 2 && pad.Inputs[2].Length > 0 ? Constant(pad, constants, 2, "constant value").Floats?.FirstOrDefault() ?? 0f : 0f;
        if (pads.Length == 8 && pads.Any(p => p > MaxWindow)) throw Error(pad, $"pads [{string.Join(", ", pads)}] exceed {MaxWindow}.");
        if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0) || value != 0f)
            throw new OnnxUnsupportedException($"{_source}: {pad}: only zero padding of H and W is supported; pads are [{string.Join(", ", pads)}], value {value}.");
        return [pads[2], pads[3], pads[6], pads[7]];
    }

    private void RequireOnes(OnnxNode node, string attribute)
    {
        if (node.Ints(attribute) is { } values && values.Any(v => v != 1))
            throw new OnnxUnsupportedException($"{_source}: {node}: {attribute} [{string.Join(", ", values)}] are not supported (only 1).");
    }

    /// <summary>auto_pad and explicit pads as [top, left, bottom, right].</summary>
    /// <summary>The largest window size, stride or pad read from a file (they become ints; a larger one is a damaged file, not a wrapped number).</summary>
    private const int MaxWindow = 1 << 16;

    /// <summary>A 2-D window attribute (kernel_shape, strides) as two ints in 1…<see cref="MaxWindow"/>, or the node is refused.</summary>
    private (int H, int W) Window(OnnxNode node, string attribute, long[]? fallback)
    {
        var v = node.Ints(attribute) ?? fallback ?? throw Error(node, $"{attribute} is required.");
        if (v.Length != 2 || v.Any(x => x is < 1 or > MaxWindow))
            throw Error(node, $"{attribute} [{string.Join(", ", v)}] must be two values in 1…{MaxWindow}.");
        return ((int)v[0], (int)v[1]);
    }

    private (string AutoPad, long[] Pads) Pads(OnnxNode node)
    {
        string autoPad = node.String("auto_pad") is { Length: > 0 } s ? s : "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw Error(node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER.");
        var pads = node.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p is < 0 or > MaxWindow)) throw Error(node, $"pads [{string.Join(", ", pads)}] must be 4 values in 0…{MaxWindow} for a 2-D window.");
        return (autoPad, pads);
    }

    private static WindowGeometry Geometry(Tensor v, int kh, int kw, int sh, int sw, string autoPad, long[] pads, bool ceil)
    {
        if (v.Rank != 4) throw new ArgumentException($"input shape {Describe(v)} is not an image map [N, C, H, W].");
        int n = v.Dim(0), h = v.Dim(1), w = v.Dim(2), c = v.Dim(3);
        if (autoPad == "VALID") return WindowGeometry.Explicit(n, h, w, c, kh, kw, sh, sw, 0, 0, 0, 0, ceil);
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
            int padH = Math.Max((oh - 1) * sh + kh - h, 0), padW = Math.Max((ow - 1) * sw + kw - w, 0);
            // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
            int top = autoPad == "SAME_UPPER" ? padH / 2 : padH - padH / 2, left = autoPad == "SAME_UPPER" ? padW / 2 : padW - padW / 2;
            return WindowGeometry.Explicit(n, h, w, c, kh, kw, sh, sw, top, left, padH - top, padW - left);
        }
        return WindowGeometry.Explicit(n, h, w, c, kh, kw, sh, sw, (int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3], ceil);
    }
}
