using NativeIg.Autodiff;
using NativeIg.Tensors;
using NativeIg.Tensors.Gpu;

namespace NativeIg.Onnx;

/// <summary>Thrown when a graph uses ops or attributes the engine does not have; it names every such node at once.</summary>
public sealed class OnnxUnsupportedException : Exception
{
    public OnnxUnsupportedException() { }
    public OnnxUnsupportedException(string message) : base(message) { }
    public OnnxUnsupportedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// An ONNX graph compiled into a list of tape steps, in the file's (topological) order. Each step reads
/// named values and writes one; Identity, Dropout and a ReLU fused into the convolution before it are
/// aliases, not steps. On an inference tape each value is freed after its last reader.
/// </summary>
internal sealed class OnnxGraphPlan
{
    /// <summary>The ops the importer builds, in ONNX's default domain.</summary>
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string>
    {
        "Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "Concat", "Flatten", "Reshape",
        "Gemm", "MatMul", "Softmax", "Dropout", "Identity", "Constant", "Add", "Sub", "Mul", "Div", "BatchNormalization",
        "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "LogSoftmax", "ReduceMean", "Squeeze", "Unsqueeze",
        "PRelu", "Pad", "Shape", "Gather", "Cast", "Transpose",
    };

    private sealed record Step(OnnxNode Node, string[] Inputs, string Output, Func<Tape, Variable[], Variable> Run, string Kind);

    private readonly OnnxModelProto _proto;
    private readonly string _source;
    private readonly List<Step> _steps = [];
    private readonly Dictionary<string, string> _alias = [];
    private readonly Dictionary<string, int> _lastUse = [];
    private readonly List<string> _notes;
    private string _input = "", _output = "";
    private string? _outputName;
    private readonly Dictionary<string, long> _multiplyAdds = [];

    public int Classes { get; private set; }
    public bool EndsInSoftmax { get; private set; }
    public IReadOnlyList<string> Notes => _notes;
    public long ParameterCount { get; private set; }

    public long MultiplyAddsPerImage
    {
        get { lock (_multiplyAdds) return _multiplyAdds.Values.Sum(); }
    }

    private OnnxGraphPlan(OnnxModelProto proto, string source)
    {
        _proto = proto;
        _source = source;
        _notes = [.. proto.Notes];
    }

    /// <summary>Checks the graph, builds its steps (parameters on <paramref name="device"/>) and, on the host, runs one image through it to check every shape.</summary>
    public static OnnxGraphPlan Build(OnnxModelProto proto, string source, OnnxPreprocessing preprocessing, string? outputName = null, GpuDevice? device = null)
    {
        var plan = new OnnxGraphPlan(proto, source) { _outputName = outputName };
        try
        {
            plan.Compile(preprocessing, device);
            if (device is null) plan.CheckShapes(preprocessing);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException or KeyNotFoundException)
        {
            // Attributes are checked where they are read; this is the last guard, so a damaged graph is always an OnnxFormatException.
            throw new OnnxFormatException($"{source}: the graph is inconsistent ({e.Message}).", e);
        }
        return plan;
    }

    public OnnxGraphPlan ToDevice(GpuDevice? device)
    {
        var plan = new OnnxGraphPlan(_proto, _source) { Classes = Classes, _outputName = _outputName };
        plan.Compile(null, device);
        plan.Classes = Classes;
        return plan;
    }

    public Variable Run(Tape tape, Variable input)
    {
        var values = new Dictionary<string, Variable> { [_input] = input };
        for (int i = 0; i < _steps.Count; i++)
        {
            var step = _steps[i];
            var args = new Variable[step.Inputs.Length];
            for (int j = 0; j < args.Length; j++) args[j] = values[step.Inputs[j]];
            Variable y;
            try { y = step.Run(tape, args); }
            catch (ArgumentException e) { throw new OnnxFormatException($"{_source}: {step.Node}: {e.Message}", e); }
            values[step.Output] = y;
            foreach (var name in step.Inputs.Distinct())
                if (_lastUse[name] == i && name != _output && values.Remove(name, out var dead)) tape.Free(dead);
        }
        var result = values[_output];
        // A feature extractor's pooled output [N, C, 1, 1] is its [N, C] features.
        var r = result.Value;
        return r.Rank == 4 && r.Dim(1) == 1 && r.Dim(2) == 1 ? tape.Reshape(result, [r.Dim(0), r.Dim(3)], "features") : result;
    }

    private string Resolve(string name) => _alias.TryGetValue(name, out var target) ? Resolve(target) : name;

    private Exception Error(OnnxNode? node, string what) => new OnnxFormatException(node is null ? $"{_source}: {what}" : $"{_source}: {node}: {what}");

    private void Compile(OnnxPreprocessing? preprocessing, GpuDevice? device)
    {
        var g = _proto.Graph;
        long opset = _proto.Opset;
        if (opset != 0 && (opset < 7 || opset > 21))
            throw new OnnxUnsupportedException($"{_source}: opset {opset} is not supported (7 to 21 are).");
        var unsupported = g.Nodes.Where(n => n.Domain is not ("" or "ai.onnx") || !SupportedOps.Contains(n.OpType)).ToList();
        if (unsupported.Count > 0)
            throw new OnnxUnsupportedException($"{_source}: {unsupported.Count} node(s) use ops the engine does not have: " +
                string.Join(", ", unsupported.Select(n => $"'{n.Name}' ({(n.Domain.Length > 0 ? n.Domain + "." : "")}{n.OpType})")) +
                $". Supported: {string.Join(", ", SupportedOps.Order())}.");

        var images = g.Inputs.Where(i => !g.Initializers.ContainsKey(i.Name)).ToList();
        if (images.Count != 1)
            throw Error(null, $"an image model has one input; this graph has {images.Count}: {string.Join(", ", images.Select(i => i.Name))}.");
        var input = images[0];
        if (input.ElementType != OnnxDataType.Float) throw Error(null, $"input '{input.Name}' is {input.ElementType}; an image model takes float.");
        if (input.Dims.Length != 4) throw Error(null, $"input '{input.Name}' has rank {input.Dims.Length}; an image model takes [N, C, H, W].");
        // TensorFlow exports (tf2onnx) take NHWC images and transpose them to NCHW first: the engine is NHWC already.
        bool nhwcInput = input.Dims[3] == 3 && input.Dims[1] != 3;
        long declaredChannels = nhwcInput ? input.Dims[3] : input.Dims[1], declaredH = nhwcInput ? input.Dims[1] : input.Dims[2], declaredW = nhwcInput ? input.Dims[2] : input.Dims[3];
        if (declaredChannels is not (3 or -1)) throw Error(null, $"input '{input.Name}' has {declaredChannels} channels; images have 3.");
        if (preprocessing is not null && (declaredH > 0 && declaredH != preprocessing.Height || declaredW > 0 && declaredW != preprocessing.Width))
            throw Error(null, $"input '{input.Name}' is declared {declaredH}×{declaredW} but the preprocessing gives {preprocessing.Height}×{preprocessing.Width}; set the input size to match.");
        if (g.Outputs.Count == 0) throw Error(null, "the graph has no output.");
        _input = input.Name;

        // Every node reads only values defined before it (ONNX graphs are topologically sorted).
        var constants = new Dictionary<string, OnnxTensor>(g.Initializers);
        var defined = new HashSet<string>(g.Initializers.Keys) { input.Name };
        var producer = new Dictionary<string, OnnxNode>();
        foreach (var n in g.Nodes)
            foreach (var o in n.Outputs.Where(o => o.Length > 0))
                if (!producer.TryAdd(o, n)) throw Error(n, $"output '{o}' is also written by {producer[o]}.");
        var consumers = new Dictionary<string, List<OnnxNode>>();
        foreach (var n in g.Nodes)
        {
            foreach (var i in n.Inputs.Where(i => i.Length > 0))
            {
                if (!defined.Contains(i))
                    throw Error(n, producer.TryGetValue(i, out var later)
                        ? $"reads '{i}', which {later} writes after it: the graph has a cycle or is not in topological order."
                        : $"reads '{i}', which nothing in the graph defines.");
                (consumers.TryGetValue(i, out var list) ? list : consumers[i] = []).Add(n);
            }
            foreach (var o in n.Outputs.Where(o => o.Length > 0)) defined.Add(o);
        }
        string graphOutput = _outputName ?? g.Outputs[0].Name;
        if (_outputName is not null && !g.Outputs.Any(o => o.Name == _outputName) && !producer.ContainsKey(_outputName))
            throw Error(null, $"there is no output '{_outputName}'; the graph's outputs: {string.Join(", ", g.Outputs.Select(o => o.Name))}.");
        if (!defined.Contains(graphOutput)) throw Error(null, $"the output '{graphOutput}' is never computed.");

        if (nhwcInput)
        {
            var readers = consumers.GetValueOrDefault(input.Name) ?? [];
            if (readers.Count == 0 || readers.Any(r => r.OpType != "Transpose" || r.Ints("perm") is not [0, 3, 1, 2]))
                throw new OnnxUnsupportedException($"{_source}: input '{input.Name}' is NHWC [N, H, W, 3]; only graphs that transpose it to NCHW (perm [0, 3, 1, 2]) first are supported.");
            foreach (var r in readers) _alias[r.Outputs[0]] = input.Name; // the engine's layout is NHWC already
        }

        // A BatchNormalization that is a convolution's only reader folds into its filter and bias.
        var folds = new Dictionary<OnnxNode, OnnxNode>();
        foreach (var bn in g.Nodes.Where(n => n.OpType == "BatchNormalization"))
        {
            string x = bn.Inputs[0];
            if (producer.TryGetValue(x, out var conv) && conv.OpType == "Conv" && x != graphOutput && consumers[x].Count == 1
                && bn.Inputs.Skip(1).All(constants.ContainsKey))
                folds[conv] = bn;
        }
        if (folds.Count > 0) _notes.Add($"{_source}: {folds.Count} BatchNormalization node(s) folded into the convolutions before them.");

        // A zero Pad of H and W whose only reader is a convolution becomes part of the convolution's pads.
        var padFolds = new Dictionary<OnnxNode, long[]>();
        foreach (var pad in g.Nodes.Where(n => n.OpType == "Pad"))
        {
            string padded = pad.Outputs[0];
            if (!consumers.TryGetValue(padded, out var readers) || readers.Count != 1 || readers[0].OpType != "Conv" || padded == graphOutput)
                throw new OnnxUnsupportedException($"{_source}: {pad}: only a zero Pad read by one convolution is supported (it becomes the convolution's pads).");
            padFolds[readers[0]] = PadsOf(pad, constants);
            _alias[padded] = pad.Inputs[0];
        }

        var fusedRelus = new HashSet<OnnxNode>(folds.Values);
        var shapeOf = new Dictionary<string, string>();
        foreach (var node in g.Nodes)
        {
            if (fusedRelus.Contains(node)) continue;
            if (node.OpType == "Constant")
            {
                constants[node.Outputs[0]] = ConstantOf(node);
                continue;
            }
            if (node.OpType == "Pad") continue; // folded into its convolution above
            if (node.OpType == "Transpose" && _alias.ContainsKey(node.Outputs[0])) continue; // the input's NHWC → NCHW
            if (FoldShapeArithmetic(node, constants, shapeOf)) continue;
            if (node.OpType is "Identity" or "Dropout")
            {
                if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0 && consumers.ContainsKey(node.Outputs[1]))
                    throw new OnnxUnsupportedException($"{_source}: {node}: its mask output is read by another node; at inference Dropout is the identity and has no mask.");
                _alias[node.Outputs[0]] = node.Inputs[0];
                continue;
            }
            if (node.OpType == "Softmax" && Resolve(graphOutput) == node.Outputs[0] || node.OpType == "Softmax" && graphOutput == node.Outputs[0])
            {
                EndsInSoftmax = true; // IG and classify apply their own softmax to the logits
                _alias[node.Outputs[0]] = node.Inputs[0];
                continue;
            }
            var step = node.OpType switch
            {
                "Conv" => Conv(node, folds.GetValueOrDefault(node), padFolds.GetValueOrDefault(node), constants, consumers, graphOutput, fusedRelus, device),
                "BatchNormalization" => BatchNormalization(node, constants, device),
                "Add" or "Sub" or "Mul" or "Div" => Arithmetic(node, constants, device),
                "Gemm" or "MatMul" => Gemm(node, constants, device),
                _ => Simple(node, constants),
            };
            _steps.Add(step);
        }
        _output = Resolve(graphOutput);
        if (_output == _input) throw Error(null, "the output is the input; the graph computes nothing.");
        for (int i = 0; i < _steps.Count; i++)
            foreach (var name in _steps[i].Inputs) _lastUse[name] = i;
        var firstStepInputs = _steps.SelectMany(s => s.Inputs).ToHashSet();
        if (!firstStepInputs.Contains(_input)) throw Error(null, $"no node reads the input '{_input}'.");
    }

    private OnnxTensor ConstantOf(OnnxNode node)
    {
        if (node.Attributes.TryGetValue("value", out var v) && v.Tensor is not null) return v.Tensor with { Name = node.Outputs[0] };
        if (node.Attributes.TryGetValue("value_float", out var f)) return new(node.Outputs[0], OnnxDataType.Float, [], [f.Float], null);
        if (node.Attributes.TryGetValue("value_floats", out var fs)) return new(node.Outputs[0], OnnxDataType.Float, [fs.Floats.Length], fs.Floats, null);
        if (node.Attributes.TryGetValue("value_int", out var i)) return new(node.Outputs[0], OnnxDataType.Int64, [], null, [i.Int]);
        if (node.Attributes.TryGetValue("value_ints", out var @is)) return new(node.Outputs[0], OnnxDataType.Int64, [@is.Ints.Length], null, @is.Ints);
        throw new OnnxUnsupportedException($"{_source}: {node}: only value, value_float(s) and value_int(s) constants are supported.");
    }

    private OnnxTensor Constant(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants, int index, string what)
    {
        if (index >= node.Inputs.Length || node.Inputs[index].Length == 0) throw Error(node, $"the {what} input is missing.");
        return constants.TryGetValue(node.Inputs[index], out var t) ? t
            : throw new OnnxUnsupportedException($"{_source}: {node}: its {what} '{node.Inputs[index]}' is computed in the graph; only constant {what}s (initializers) are supported.");
    }

    private Variable Parameter(float[] values, int[] shape, string name, GpuDevice? device)
    {
        using var host = Tensor.FromSpan(values, shape);
        ParameterCount += values.Length;
        return Variable.Parameter(host.To(device), name);
    }

    private Step Conv(OnnxNode node, OnnxNode? batchNorm, long[]? extraPads, Dictionary<string, OnnxTensor> constants, Dictionary<string, List<OnnxNode>> consumers,
        string graphOutput, HashSet<OnnxNode> fusedRelus, GpuDevice? device)
    {
        var w = Constant(node, constants, 1, "filter");
        if (w.Floats is null || w.Dims.Length != 4) throw Error(node, $"the filter must be a float [CO, CI, KH, KW] tensor; it is {w.DataType} [{string.Join(", ", w.Dims)}].");
        int co = (int)w.Dims[0], ci = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
        long group = node.Int("group", 1);
        // group = channels with one input channel per filter is a depthwise convolution (MobileNet's), which has its own kernels.
        bool depthwise = group > 1 && group == co && ci == 1;
        var filter = w.Floats;
        var dilations = node.Ints("dilations") ?? [1, 1];
        if (dilations.Length != 2 || dilations.Any(d => d < 1 || d > 64)) throw Error(node, $"dilations [{string.Join(", ", dilations)}] must be two values in 1…64.");
        if (dilations[0] != 1 || dilations[1] != 1)
        {
            // A dilated k×k filter is the dense (k − 1)·d + 1 filter with zeros between its taps: the same sums, more multiply-adds.
            int dh = (int)dilations[0], dw = (int)dilations[1], khd = (kh - 1) * dh + 1, kwd = (kw - 1) * dw + 1;
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
            var blocks = new float[co * dense * kh * kw];
            for (int o = 0; o < co; o++)
                for (int i = 0; i < ci; i++)
                    Array.Copy(filter, (o * ci + i) * kh * kw, blocks, (o * dense + o / perGroup * ci + i) * kh * kw, kh * kw);
            (filter, ci) = (blocks, dense);
            _notes.Add($"{_source}: {node}: group = {group} runs as one dense convolution with a block-diagonal filter ({group}× the multiply-adds).");
        }
        var strides = node.Ints("strides") ?? [1, 1];
        var (autoPad, pads) = Pads(node);
        if (extraPads is not null)
        {
            if (autoPad != "NOTSET") throw new OnnxUnsupportedException($"{_source}: {node}: a Pad before a convolution with auto_pad {autoPad} is not supported.");
            pads = pads.Zip(extraPads, (a, b) => a + b).ToArray();
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
        int sh = (int)strides[0], sw = (int)strides[1];
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

    private Step Gemm(OnnxNode node, Dictionary<string, OnnxTensor> constants, GpuDevice? device)
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

    private Step Simple(OnnxNode node, Dictionary<string, OnnxTensor> constants)
    {
        string name = node.Name;
        string[] inputs = node.OpType is "Concat" or "Add" ? node.Inputs.Select(Resolve).ToArray() : [Resolve(node.Inputs[0])];
        foreach (var i in inputs)
            if (constants.ContainsKey(i)) throw new OnnxUnsupportedException($"{_source}: {node}: a constant input ('{i}') is not supported for {node.OpType}.");
        Func<Tape, Variable[], Variable> run;
        switch (node.OpType)
        {
            case "Relu":
                run = (t, a) => t.Relu(a[0], name);
                break;
            case "LeakyRelu" or "Sigmoid" or "Tanh" or "Clip" or "HardSigmoid" or "HardSwish":
                {
                    var f = node.OpType switch
                    {
                        "LeakyRelu" => ActivationFunction.LeakyRelu(node.Float("alpha", 0.01f)),
                        "Sigmoid" => ActivationFunction.Sigmoid,
                        "Tanh" => ActivationFunction.Tanh,
                        "HardSigmoid" => ActivationFunction.HardSigmoid(node.Float("alpha", 0.2f), node.Float("beta", 0.5f)),
                        "HardSwish" => ActivationFunction.HardSwish,
                        _ => ClipOf(node, constants),
                    };
                    run = (t, a) => t.Activation(a[0], f, name);
                    break;
                }
            case "PRelu":
                {
                    // y = relu(x) − slope ⊙ relu(−x), per channel: composed from ops that every device has.
                    var slope = Constant(node, constants, 1, "slope");
                    if (slope.Floats is null || slope.Dims.Count(d => d != 1) > 1) throw new OnnxUnsupportedException($"{_source}: {node}: only a per-channel or single slope is supported.");
                    var values = slope.Floats;
                    run = (t, a) =>
                    {
                        int c = a[0].Value.Dim(a[0].Value.Rank - 1);
                        var negated = values.Length == 1 ? Enumerable.Repeat(-values[0], c).ToArray()
                            : values.Length == c ? values.Select(v => -v).ToArray() : throw new ArgumentException($"{values.Length} slopes for {c} channels.");
                        var positive = t.Relu(a[0], name + "/positive");
                        var negative = t.Relu(t.Scale(a[0], -1f, name + "/negate"), name + "/negative");
                        var scaled = t.ChannelAffine(negative, Enumerable.Range(0, c).ToArray(), negated, new float[c], name + "/slope");
                        return t.Add(positive, scaled, name);
                    };
                    break;
                }
            case "Transpose":
                {
                    // NCHW ⇄ NHWC of a map whose H and W are 1 moves no value: the engine's [N, 1, 1, C] is both.
                    var perm = node.Ints("perm") ?? [];
                    if (perm is not ([0, 3, 1, 2] or [0, 2, 3, 1]))
                        throw new OnnxUnsupportedException($"{_source}: {node}: only NCHW ⇄ NHWC transposes are supported; perm is [{string.Join(", ", perm)}].");
                    run = (t, a) =>
                    {
                        var v = a[0].Value;
                        if (v.Rank != 4 || v.Dim(1) != 1 || v.Dim(2) != 1)
                            throw new ArgumentException($"transposing {Describe(v)} between NCHW and NHWC inside the graph is supported only for 1×1 maps.");
                        return t.Reshape(a[0], v.Shape.ToArray(), name);
                    };
                    break;
                }
            case "LogSoftmax":
                {
                    long axis = node.Int("axis", _proto.Opset >= 13 ? -1 : 1);
                    run = (t, a) =>
                    {
                        if (a[0].Value.Rank != 2 || axis is not (1 or -1)) throw new ArgumentException($"log-softmax along axis {axis} of {Describe(a[0].Value)} is not supported (only the class axis of [N, classes]).");
                        return t.LogSoftmax(a[0], name);
                    };
                    break;
                }
            case "ReduceMean":
                {
                    // The mean over H and W (axes 2, 3 of NCHW) is global average pooling; keepdims = 0 also flattens.
                    var axes = node.Ints("axes") ?? (node.Inputs.Length > 1 && node.Inputs[1].Length > 0 ? Constant(node, constants, 1, "axes").Integers : null);
                    bool keep = node.Int("keepdims", 1) != 0;
                    if (axes is null || axes.Select(x => x < 0 ? x + 4 : x).Order().SequenceEqual(new long[] { 2, 3 }) is false)
                        throw new OnnxUnsupportedException($"{_source}: {node}: only the mean over the spatial axes (2, 3) is supported; axes are [{string.Join(", ", axes ?? [])}].");
                    run = (t, a) =>
                    {
                        var v = a[0].Value;
                        if (v.Rank != 4) throw new ArgumentException($"input shape {Describe(v)} is not an image map.");
                        var pooled = t.AvgPool(a[0], WindowGeometry.Valid(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), v.Dim(1), v.Dim(2), 1, 1), AvgPoolDivisor.ValidOnly, name);
                        return keep ? pooled : t.Reshape(pooled, [v.Dim(0), v.Dim(3)], name + "/squeeze");
                    };
                    break;
                }
            case "Squeeze" or "Unsqueeze":
                {
                    // [N, C, 1, 1] ⇄ [N, C]: the squeezes around a classifier. Other axes are not supported.
                    var axes = node.Ints("axes") ?? (node.Inputs.Length > 1 && node.Inputs[1].Length > 0 ? Constant(node, constants, 1, "axes").Integers : null);
                    bool squeeze = node.OpType == "Squeeze";
                    bool spatial = axes is not null && axes.Select(x => x < 0 ? x + (squeeze ? 4 : 4) : x).Order().SequenceEqual(new long[] { 2, 3 });
                    if (!spatial) throw new OnnxUnsupportedException($"{_source}: {node}: only axes (2, 3) of [N, C, 1, 1] are supported; axes are [{string.Join(", ", axes ?? [])}].");
                    run = (t, a) =>
                    {
                        var v = a[0].Value;
                        if (squeeze)
                        {
                            if (v.Rank != 4 || v.Dim(1) != 1 || v.Dim(2) != 1) throw new ArgumentException($"squeezing axes 2 and 3 of {Describe(v)}, which are not 1.");
                            return t.Reshape(a[0], [v.Dim(0), v.Dim(3)], name);
                        }
                        if (v.Rank != 2) throw new ArgumentException($"unsqueezing {Describe(v)} to [N, C, 1, 1] needs [N, C].");
                        return t.Reshape(a[0], [v.Dim(0), 1, 1, v.Dim(1)], name);
                    };
                    break;
                }
            case "MaxPool" or "AveragePool":
                {
                    var kernel = node.Ints("kernel_shape") ?? throw Error(node, "kernel_shape is required.");
                    if (kernel.Length != 2) throw new OnnxUnsupportedException($"{_source}: {node}: only 2-D pooling is supported.");
                    RequireOnes(node, "dilations");
                    if (node.Int("storage_order", 0) != 0) throw new OnnxUnsupportedException($"{_source}: {node}: storage_order = 1 is not supported.");
                    var strides = node.Ints("strides") ?? [1, 1];
                    var (autoPad, pads) = Pads(node);
                    bool ceil = node.Int("ceil_mode", 0) != 0;
                    bool max = node.OpType == "MaxPool";
                    var divisor = node.Int("count_include_pad", 0) != 0 ? AvgPoolDivisor.IncludePadding : AvgPoolDivisor.ValidOnly;
                    if (!max && divisor == AvgPoolDivisor.IncludePadding && (pads[0] != pads[2] || pads[1] != pads[3]))
                        throw new OnnxUnsupportedException($"{_source}: {node}: count_include_pad with unequal begin and end pads is not supported.");
                    run = (t, a) =>
                    {
                        var g = Geometry(a[0].Value, (int)kernel[0], (int)kernel[1], (int)strides[0], (int)strides[1], autoPad, pads, ceil);
                        return max ? t.MaxPool(a[0], g, name) : t.AvgPool(a[0], g, divisor, name);
                    };
                    break;
                }
            case "GlobalAveragePool" or "GlobalMaxPool":
                {
                    bool max = node.OpType == "GlobalMaxPool";
                    run = (t, a) =>
                    {
                        var v = a[0].Value;
                        if (v.Rank != 4) throw new ArgumentException($"input shape {Describe(v)} is not an image map.");
                        var g = WindowGeometry.Valid(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), v.Dim(1), v.Dim(2), 1, 1);
                        return max ? t.MaxPool(a[0], g, name) : t.AvgPool(a[0], g, AvgPoolDivisor.ValidOnly, name);
                    };
                    break;
                }
            case "LRN":
                {
                    var p = new LrnParameters((int)node.Int("size", 0), node.Float("alpha", 1e-4f), node.Float("beta", 0.75f), node.Float("bias", 1f));
                    try { p.Validate(); } catch (ArgumentException e) { throw Error(node, e.Message); }
                    run = (t, a) => t.Lrn(a[0], p, name);
                    break;
                }
            case "Concat":
                {
                    long axis = node.Int("axis", 1);
                    run = (t, a) =>
                    {
                        int rank = a[0].Value.Rank;
                        // NCHW's channel axis is NHWC's last: axis 1 (or −3) of a map, 1 (or −1) of a matrix.
                        bool channels = rank == 4 ? axis is 1 or -3 : rank == 2 && axis is 1 or -1;
                        if (!channels) throw new ArgumentException($"concatenation along axis {axis} of rank-{rank} values is not supported (only channels).");
                        return t.Concat(name, a);
                    };
                    break;
                }
            case "Flatten" or "Reshape":
                {
                    if (node.OpType == "Flatten" && node.Int("axis", 1) != 1) throw new OnnxUnsupportedException($"{_source}: {node}: only axis = 1 is supported.");
                    if (node.OpType == "Reshape")
                    {
                        var shape = Constant(node, constants, 1, "shape");
                        // [N, −1], [0, −1] and [N, C]: the flattening PyTorch and Keras exports write before the classifier.
                        if (shape.Integers is not { Length: 2 } s || s[1] != -1 && s[0] is not (0 or 1 or -1) && s[1] <= 0)
                            throw new OnnxUnsupportedException($"{_source}: {node}: only a reshape to [batch, features] is supported; the shape is [{string.Join(", ", shape.Integers ?? [])}].");
                    }
                    run = (t, a) =>
                    {
                        var v = a[0].Value;
                        if (v.Rank == 2) return t.Reshape(a[0], [v.Dim(0), v.Dim(1)], name);
                        if (v.Rank != 4) throw new ArgumentException($"input shape {Describe(v)} cannot be flattened.");
                        // NCHW flattens channel-major, NHWC channel-minor: the same for a 1×1 map, else permuted into NCHW order.
                        return v.Dim(1) * v.Dim(2) == 1 ? t.Reshape(a[0], [v.Dim(0), v.Dim(3)], name) : t.FlattenChannelsFirst(a[0], name);
                    };
                    break;
                }
            case "Softmax":
                {
                    long axis = node.Int("axis", _proto.Opset >= 13 ? -1 : 1);
                    run = (t, a) =>
                    {
                        if (a[0].Value.Rank != 2 || axis is not (1 or -1)) throw new ArgumentException($"softmax along axis {axis} of {Describe(a[0].Value)} is not supported (only the class axis of [N, classes]).");
                        return t.Softmax(a[0], name);
                    };
                    break;
                }
            case "Add":
                run = (t, a) =>
                {
                    if (!a[0].Value.SameShape(a[1].Value)) throw new ArgumentException($"adding {Describe(a[0].Value)} and {Describe(a[1].Value)}: broadcasting is not supported yet.");
                    return t.Add(a[0], a[1], name);
                };
                break;
            default:
                throw new OnnxUnsupportedException($"{_source}: {node}: not supported.");
        }
        return new Step(node, inputs, node.Outputs[0], run, node.OpType);
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
        }
        return (scale, shift);
    }

    /// <summary>A BatchNormalization that could not be folded: the per-channel affine map s·x + t.</summary>
    private Step BatchNormalization(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants, GpuDevice? device)
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

    /// <summary>
    /// Add, Sub, Mul, Div. Two computed values of one shape: the engine's element-wise ops. A computed value
    /// and a constant: Add/Sub with a per-channel or per-image constant become <c>Tape.AddBias</c>, Mul/Div
    /// by a per-channel constant a per-channel scale (<c>Tape.ChannelAffine</c>).
    /// </summary>
    private Step Arithmetic(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants, GpuDevice? device)
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

    /// <summary>Clip's bounds: attributes min and max before opset 11, optional constant inputs after.</summary>
    private ActivationFunction ClipOf(OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> constants)
    {
        float Bound(int input, string attribute, float fallback)
        {
            if (node.Attributes.ContainsKey(attribute)) return node.Float(attribute, fallback);
            if (node.Inputs.Length <= input || node.Inputs[input].Length == 0) return fallback;
            var c = Constant(node, constants, input, attribute);
            return c.Floats is { Length: 1 } f ? f[0] : throw Error(node, $"its {attribute} must be one float.");
        }
        return ActivationFunction.Clip(Bound(1, "min", float.NegativeInfinity), Bound(2, "max", float.PositiveInfinity));
    }

    /// <summary>A zero Pad's H and W pads as [top, left, bottom, right] (NCHW pads [n, c, h, w, n, c, h, w]).</summary>
    private long[] PadsOf(OnnxNode pad, IReadOnlyDictionary<string, OnnxTensor> constants)
    {
        if ((pad.String("mode") ?? "constant") != "constant") throw new OnnxUnsupportedException($"{_source}: {pad}: only constant padding is supported.");
        var pads = pad.Ints("pads") ?? Constant(pad, constants, 1, "pads").Integers ?? [];
        float value = pad.Attributes.ContainsKey("value") ? pad.Float("value", 0f)
            : pad.Inputs.Length > 2 && pad.Inputs[2].Length > 0 ? Constant(pad, constants, 2, "constant value").Floats?.FirstOrDefault() ?? 0f : 0f;
        if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0) || value != 0f)
            throw new OnnxUnsupportedException($"{_source}: {pad}: only zero padding of H and W is supported; pads are [{string.Join(", ", pads)}], value {value}.");
        return [pads[2], pads[3], pads[6], pads[7]];
    }

    /// <summary>
    /// The integer arithmetic PyTorch exports write to compute a reshape target, evaluated at load:
    /// Shape of a computed value, Gather of its batch dimension (index 0, which becomes Reshape's 0,
    /// "keep this dimension"), Unsqueeze, Squeeze, Concat and Cast of constants. True when the node was folded.
    /// </summary>
    private bool FoldShapeArithmetic(OnnxNode node, Dictionary<string, OnnxTensor> constants, Dictionary<string, string> shapeOf)
    {
        string output = node.Outputs.Length > 0 ? node.Outputs[0] : "";
        switch (node.OpType)
        {
            case "Shape":
                shapeOf[output] = Resolve(node.Inputs[0]);
                return true;
            case "Gather":
                {
                    if (!shapeOf.ContainsKey(Resolve(node.Inputs[0])))
                        throw new OnnxUnsupportedException($"{_source}: {node}: Gather is supported only on a Shape (the batch dimension).");
                    var indices = Constant(node, constants, 1, "indices");
                    if (node.Int("axis", 0) != 0 || indices.Integers is not [0])
                        throw new OnnxUnsupportedException($"{_source}: {node}: only the batch dimension (index 0) of a Shape can be gathered.");
                    constants[output] = new OnnxTensor(output, OnnxDataType.Int64, indices.Dims, null, [0]); // Reshape's 0: keep the batch
                    _notes.Add($"{_source}: {node}: the batch size of a Shape folded into the reshape that reads it.");
                    return true;
                }
            case "Unsqueeze" or "Squeeze" or "Cast" when constants.TryGetValue(Resolve(node.Inputs[0]), out var c) && c.Integers is not null:
                constants[output] = c with { Name = output, Dims = node.OpType == "Unsqueeze" && c.Dims.Length == 0 ? [1] : c.Dims.Length == 1 && c.Dims[0] == 1 && node.OpType == "Squeeze" ? [] : c.Dims };
                return true;
            case "Concat" when node.Inputs.All(i => constants.TryGetValue(Resolve(i), out var v) && v.Integers is not null):
                {
                    var values = node.Inputs.SelectMany(i => constants[Resolve(i)].Integers!).ToArray();
                    constants[output] = new OnnxTensor(output, OnnxDataType.Int64, [values.Length], null, values);
                    return true;
                }
            case "Cast":
                _alias[output] = node.Inputs[0]; // a float-to-float cast of a computed value
                if (node.Int("to", 1) != 1) throw new OnnxUnsupportedException($"{_source}: {node}: a computed value can only be cast to float.");
                return true;
            default:
                return false;
        }
    }

    private void RequireOnes(OnnxNode node, string attribute)
    {
        if (node.Ints(attribute) is { } values && values.Any(v => v != 1))
            throw new OnnxUnsupportedException($"{_source}: {node}: {attribute} [{string.Join(", ", values)}] are not supported (only 1).");
    }

    /// <summary>auto_pad and explicit pads as [top, left, bottom, right].</summary>
    private (string AutoPad, long[] Pads) Pads(OnnxNode node)
    {
        string autoPad = node.String("auto_pad") is { Length: > 0 } s ? s : "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw Error(node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER.");
        var pads = node.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p < 0)) throw Error(node, $"pads [{string.Join(", ", pads)}] must be 4 values ≥ 0 for a 2-D window.");
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

    private static string Describe(Tensor v) => v.Rank == 4 ? $"[N={v.Dim(0)}, C={v.Dim(3)}, H={v.Dim(1)}, W={v.Dim(2)}]" : v.ShapeString;

    private void Count(string node, long multiplyAdds)
    {
        lock (_multiplyAdds) _multiplyAdds[node] = multiplyAdds;
    }

    /// <summary>One zero image through the graph on an inference tape: every shape is checked before any real work, and the class count found.</summary>
    private void CheckShapes(OnnxPreprocessing p)
    {
        using var image = Tensor.Zeros(1, p.Height, p.Width, 3);
        using var tape = Tape.ForInference();
        var (source, scale, shift) = p.ChannelAffine();
        var x = tape.ChannelAffine(tape.Input(image, requiresGrad: false), source, scale, shift, "preprocess");
        var y = Run(tape, x);
        if (y.Value.Rank != 2)
            throw Error(null, $"the output '{_output}' has shape {Describe(y.Value)}; a classifier's logits are [N, classes].");
        Classes = y.Value.Dim(1);
    }

    public string Summary(string source, OnnxPreprocessing p)
    {
        var g = _proto.Graph;
        var lines = new List<string>
        {
            $"model     {source}",
            $"format    ONNX IR {_proto.IrVersion}, opset {_proto.Opset}{(_proto.Producer.Length > 0 ? $", from {_proto.Producer}" : "")}",
            $"input     {_input} [N, 3, {p.Height}, {p.Width}] float, from RGB [0,1]: {(p.Bgr ? "BGR" : "RGB")}, ×{p.Scale}, mean [{string.Join(", ", p.Mean)}], std [{string.Join(", ", p.Std)}]{(p.MeanImage is null ? "" : ", then minus a mean image")}",
            $"output    {_outputName ?? g.Outputs[0].Name}: {Classes} {(Classes == 1000 ? "classes" : "values (classes or features)")}{(EndsInSoftmax ? " (a softmax in the file; explanations use the logits before it or the probabilities after it)" : "")}",
            $"nodes     {g.Nodes.Count}: {string.Join(", ", g.Nodes.GroupBy(n => n.OpType).OrderByDescending(x => x.Count()).Select(x => $"{x.Key} {x.Count()}"))}",
            $"params    {ParameterCount:N0}",
            $"compute   {_multiplyAdds.Values.Sum() / 1e9:F2} G multiply-adds per image",
        };
        lines.AddRange(_notes.Select(n => $"note      {n}"));
        return string.Join(Environment.NewLine, lines);
    }
}
