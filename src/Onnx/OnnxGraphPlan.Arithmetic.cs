using NativeIg.Autodiff;
using NativeIg.Tensors;

namespace NativeIg.Onnx;

/// <summary>Fully connected layers and element-wise arithmetic with constants or between computed values.</summary>
internal sealed partial class OnnxGraphPlan
{
    private Step Gemm(OnnxNode node, Dictionary<string, OnnxTensor> constants, ComputeDevice? device)
    {
        if (node.OpType == "Gemm" && node.Int("transA", 0) != 0) throw new OnnxUnsupportedException($"{_source}: {node}: transA = 1 is not supported.");
        var b = Constant(node, constants, 1, "weight");
        if (b.Floats is null || b.Dims.Length != 2) throw Error(node, $"the weight must be a float matrix; it is {b.DataType} [{string.Join(", ", b.Dims)}].");
        bool transB = node.OpType == "Gemm" && node.Int("transB", 0) != 0;
        float alpha = node.OpType == "Gemm" ? node.Float("alpha", 1f) : 1f, beta = node.OpType == "Gemm" ? node.Float("beta", 1f) : 1f;
        int inputs = (int)(transB ? b.Dims[1] : b.Dims[0]), outputs = (int)(transB ? b.Dims[0] : b.Dims[1]);
        var w = new float[inputs * outputs];
        for (int i = 0; i < inputs; i++)
            for (int o = 0; o < outputs; o++) w[i * outputs + o] = alpha * (transB ? b.Floats[o * inputs + i] : b.Floats[i * outputs + o]);
        var weight = Parameter(w, [inputs, outputs], node.Name + "/weight", device);
        Variable? bias = null;
        if (node.OpType == "Gemm" && node.Inputs.Length > 2 && node.Inputs[2].Length > 0)
        {
            var c = Constant(node, constants, 2, "bias");
            if (c.Floats is null || c.ElementCount != outputs)
                throw new OnnxUnsupportedException($"{_source}: {node}: only a bias of one value per output ({outputs}) is supported; C has shape [{string.Join(", ", c.Dims)}].");
            bias = Parameter(c.Floats.Select(v => beta * v).ToArray(), [outputs], node.Name + "/bias", device);
        }
        Classes = outputs;
        return new Step(node, [Resolve(node.Inputs[0])], node.Outputs[0], (t, a) =>
        {
            var v = a[0].Value;
            if (v.Rank != 2 || v.Dim(1) != inputs) throw new ArgumentException($"input shape {Describe(v)} is not [N, {inputs}].");
            Count(node.Name, (long)inputs * outputs); // per image
            return t.FullyConnected(a[0], weight, bias, node.Name);
        }, "fc");
    }

    /// <summary>
    /// Add, Sub, Mul, Div. Two computed values of one shape: the engine's element-wise ops. A computed value
    /// and a constant: Add/Sub with a per-channel or per-image constant become <c>Tape.AddBias</c>, Mul/Div
    /// by a per-channel constant a per-channel scale (<c>Tape.ChannelAffine</c>).
    /// </summary>
    private Step Arithmetic(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants, ComputeDevice? device)
    {
        string name = node.Name, op = node.OpType;
        string a = Resolve(node.Inputs[0]), b = Resolve(node.Inputs[1]);
        bool constA = constants.ContainsKey(a), constB = constants.ContainsKey(b);
        if (constA && constB) throw new OnnxUnsupportedException($"{_source}: {node}: both inputs are constants (constant folding is not supported yet).");
        if (!constA && !constB)
        {
            return new Step(node, [a, b], node.Outputs[0], (t, v) =>
            {
                if (!v[0].Value.SameShape(v[1].Value))
                {
                    // A map times per-image channel gates [N, C, 1, 1] (squeeze-and-excitation): the one broadcast between computed values supported.
                    if (op == "Mul" && Gates(v[0].Value, v[1].Value) is { } g1) return t.ScaleChannels(v[0], t.Reshape(v[1], g1, name + "/gates"), name);
                    if (op == "Mul" && Gates(v[1].Value, v[0].Value) is { } g0) return t.ScaleChannels(v[1], t.Reshape(v[0], g0, name + "/gates"), name);
                    throw new ArgumentException($"{op} of {Describe(v[0].Value)} and {Describe(v[1].Value)}: broadcasting between computed values is supported only for Mul by [N, C, 1, 1] gates.");
                }
                return op switch
                {
                    "Add" => t.Add(v[0], v[1], name),
                    "Sub" => t.Add(v[0], t.Scale(v[1], -1f, name + "/negate"), name),
                    "Mul" => t.Mul(v[0], v[1], name),
                    _ => throw new ArgumentException("dividing by a computed value is not supported yet."),
                };
            }, op.ToLowerInvariant());
        }
        if (constA && op is "Sub" or "Div") throw new OnnxUnsupportedException($"{_source}: {node}: a constant minus or over a computed value is not supported yet.");
        var constant = constants[constA ? a : b];
        string x = constA ? b : a;
        if (constant.Floats is null) throw Error(node, $"the constant '{constant.Name}' is {constant.DataType}, not float.");
        if (constant.Floats.Length == 1)
        {
            // A single number (x / 255, x − 0.5): a scale, or a shift of every channel.
            float k = constant.Floats[0];
            return new Step(node, [x], node.Outputs[0], (t, v) =>
            {
                if (op is "Mul" or "Div") return t.Scale(v[0], op == "Mul" ? k : 1f / k, name);
                int c = v[0].Value.Dim(v[0].Value.Rank - 1);
                return t.ChannelAffine(v[0], Enumerable.Range(0, c).ToArray(), Enumerable.Repeat(1f, c).ToArray(), Enumerable.Repeat(op == "Add" ? k : -k, c).ToArray(), name);
            }, "scalar");
        }
        var (values, shape, perChannel) = ToNhwcBias(node, constant);
        if (op is "Add" or "Sub")
        {
            var bias = Parameter(op == "Sub" ? values.Select(v => -v).ToArray() : values, shape, name + "/constant", device);
            return new Step(node, [x], node.Outputs[0], (t, v) => t.AddBias(v[0], bias, name), "add_bias");
        }
        if (!perChannel) throw new OnnxUnsupportedException($"{_source}: {node}: {op} by a constant of shape [{string.Join(", ", constant.Dims)}] is not supported (only per channel).");
        var scale = op == "Mul" ? values : values.Select(v => 1f / v).ToArray();
        var identity = Enumerable.Range(0, scale.Length).ToArray();
        var zeros = new float[scale.Length];
        return new Step(node, [x], node.Outputs[0], (t, v) =>
        {
            if (v[0].Value.Dim(v[0].Value.Rank - 1) != scale.Length) throw new ArgumentException($"{Describe(v[0].Value)} does not have the constant's {scale.Length} channels.");
            return t.ChannelAffine(v[0], identity, scale, zeros, name);
        }, "scale_channels");
    }

    /// <summary>[N, C] when <paramref name="gates"/> is [N, C, 1, 1] (or [N, C]) for the map [N, C, H, W]; else null.</summary>
    private static int[]? Gates(Tensor map, Tensor gates)
    {
        if (map.Rank != 4) return null;
        int n = map.Dim(0), c = map.Dim(3);
        bool fits = gates.Rank == 4 && gates.Dim(0) == n && gates.Dim(1) == 1 && gates.Dim(2) == 1 && gates.Dim(3) == c
            || gates.Rank == 2 && gates.Dim(0) == n && gates.Dim(1) == c;
        return fits ? [n, c] : null;
    }

    /// <summary>
    /// A constant broadcast against an NCHW map or an [N, F] matrix, as the engine's row: [1, C, 1, 1] or
    /// [C, 1, 1] per channel → [C]; [1, C, H, W] or [C, H, W] per image → [H, W, C]; [F] or [1, F] per feature.
    /// </summary>
    private (float[] Values, int[] Shape, bool PerChannel) ToNhwcBias(OnnxNode node, OnnxTensor constant)
    {
        var dims = constant.Dims.SkipWhile(d => d == 1).ToArray();
        var full = constant.Dims.Length == 4 && constant.Dims[0] == 1 ? constant.Dims[1..] : constant.Dims;
        var f = constant.Floats!;
        if (full.Length == 3 && full[1] == 1 && full[2] == 1) return (f, [(int)full[0]], true);
        if (full.Length == 3)
        {
            int c = (int)full[0], h = (int)full[1], w = (int)full[2];
            var hwc = new float[f.Length];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) hwc[(y * w + x) * c + ch] = f[(ch * h + y) * w + x];
            return (hwc, [h, w, c], false);
        }
        if (dims.Length == 1 && constant.Dims.Length <= 2) return (f, [(int)dims[0]], true); // [F] or [1, F] on a matrix
        throw new OnnxUnsupportedException($"{_source}: {node}: a constant of shape [{string.Join(", ", constant.Dims)}] does not broadcast per channel or per image.");
    }
}
