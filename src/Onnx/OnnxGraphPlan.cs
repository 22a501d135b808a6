using NativeIg.Autodiff;
using NativeIg.Tensors;

namespace NativeIg.Onnx;

/// <summary>Thrown when a graph uses ops or attributes the engine does not have; it names every such node at once.</summary>
public sealed class OnnxUnsupportedException : Exception
{
    /// <summary>With a default message.</summary>
    public OnnxUnsupportedException() { }

    /// <summary>With <paramref name="message"/>.</summary>
    public OnnxUnsupportedException(string message) : base(message) { }

    /// <summary>With <paramref name="message"/> and the exception that caused it.</summary>
    public OnnxUnsupportedException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// An ONNX graph compiled into a list of tape steps, in the file's (topological) order. Each step reads
/// named values and writes one; Identity, Dropout and a ReLU fused into the convolution before it are
/// aliases, not steps. On an inference tape each value is freed after its last reader.
/// </summary>
internal sealed partial class OnnxGraphPlan
{
    /// <summary>The ops the importer builds, in ONNX's default domain.</summary>
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string>
    {
        "Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "Concat", "Flatten", "Reshape",
        "Gemm", "MatMul", "Softmax", "Dropout", "Identity", "Constant", "Add", "Sub", "Mul", "Div", "BatchNormalization",
        "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "LogSoftmax", "ReduceMean", "Squeeze", "Unsqueeze",
        "PRelu", "Pad", "Shape", "Gather", "Cast", "Transpose",
    };

    /// <summary>
    /// The attributes each operator defines (ONNX's schemas, every opset from 7 to 21, including the ones old
    /// opsets had). ONNX Runtime refuses a node with any other ("Unrecognized attribute"), and so does the
    /// engine: a misspelt "dilation" would otherwise be ignored and the model silently computed without it.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string[]> DefinedAttributes = new Dictionary<string, string[]>
    {
        ["Conv"] = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
        ["MaxPool"] = ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"],
        ["AveragePool"] = ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"],
        ["GlobalAveragePool"] = [], ["GlobalMaxPool"] = [], ["Relu"] = [], ["Sigmoid"] = [], ["Tanh"] = [], ["HardSwish"] = [],
        ["PRelu"] = [], ["MatMul"] = [], ["Identity"] = [],
        ["LRN"] = ["alpha", "beta", "bias", "size"],
        ["Concat"] = ["axis"], ["Flatten"] = ["axis"], ["Softmax"] = ["axis"], ["LogSoftmax"] = ["axis"], ["Gather"] = ["axis"],
        ["Reshape"] = ["allowzero", "shape"],
        ["Gemm"] = ["alpha", "beta", "transA", "transB", "broadcast"],
        ["Dropout"] = ["ratio", "seed", "is_test"],
        ["Constant"] = ["value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value"],
        ["Add"] = ["axis", "broadcast"], ["Sub"] = ["axis", "broadcast"], ["Mul"] = ["axis", "broadcast"], ["Div"] = ["axis", "broadcast"],
        ["BatchNormalization"] = ["epsilon", "momentum", "spatial", "training_mode", "is_test"],
        ["LeakyRelu"] = ["alpha"], ["HardSigmoid"] = ["alpha", "beta"], ["Clip"] = ["min", "max"],
        ["ReduceMean"] = ["axes", "keepdims", "noop_with_empty_axes"],
        ["Squeeze"] = ["axes"], ["Unsqueeze"] = ["axes"],
        ["Pad"] = ["mode", "pads", "value"],
        ["Shape"] = ["start", "end"], ["Cast"] = ["to", "saturate"], ["Transpose"] = ["perm"],
    };

    /// <summary>
    /// How many inputs and outputs each operator takes (ONNX's schemas; an omitted optional input written as ""
    /// still counts, as it does for ONNX Runtime, which refuses a node outside these ranges).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, (int MinIn, int MaxIn, int MinOut, int MaxOut)> Arity =
        new Dictionary<string, (int, int, int, int)>
        {
            ["Conv"] = (2, 3, 1, 1), ["Gemm"] = (2, 3, 1, 1), ["MatMul"] = (2, 2, 1, 1), ["PRelu"] = (2, 2, 1, 1), ["Gather"] = (2, 2, 1, 1),
            ["Add"] = (2, 2, 1, 1), ["Sub"] = (2, 2, 1, 1), ["Mul"] = (2, 2, 1, 1), ["Div"] = (2, 2, 1, 1),
            ["MaxPool"] = (1, 1, 1, 2), ["Dropout"] = (1, 3, 1, 2), ["BatchNormalization"] = (5, 5, 1, 5),
            ["Concat"] = (1, int.MaxValue, 1, 1), ["Constant"] = (0, 0, 1, 1),
            ["Reshape"] = (1, 2, 1, 1), ["Clip"] = (1, 3, 1, 1), ["ReduceMean"] = (1, 2, 1, 1), ["Squeeze"] = (1, 2, 1, 1),
            ["Unsqueeze"] = (1, 2, 1, 1), ["Pad"] = (1, 4, 1, 1),
        };

    private sealed record Step(OnnxNode Node, string[] Inputs, string Output, Func<Tape, Variable[], Variable> Run, string Kind);

    private readonly OnnxModelProto _proto;
    private readonly string _source;
    private readonly List<Step> _steps = [];
    private readonly List<Variable> _parameters = [];
    private readonly Dictionary<string, string> _alias = [];
    // The values each step is the last reader of (freed after it on an inference tape), computed once at compile.
    private List<string>[] _freeAfter = [];
    private readonly List<string> _notes;
    private string _input = "", _output = "";
    private string? _outputName;
    // Multiply-adds per image and node, recorded by the shape check (the only run that counts).
    private readonly Dictionary<string, long> _multiplyAdds = [];
    private bool _counting;

    /// <summary>The most tensor memory one image's forward pass may need (the activations a gradient keeps): 2 GiB.</summary>
    public const long MaxActivationBytesPerImage = 2L << 30;

    public int Classes { get; private set; }
    public bool EndsInSoftmax { get; private set; }
    public IReadOnlyList<string> Notes => _notes;
    public long ParameterCount { get; private set; }

    public long MultiplyAddsPerImage => _multiplyAdds.Values.Sum();

    private OnnxGraphPlan(OnnxModelProto proto, string source)
    {
        _proto = proto;
        _source = source;
        _notes = [.. proto.Notes];
    }

    /// <summary>Checks the graph, builds its steps (parameters on <paramref name="device"/>) and, on the host, runs one image through it to check every shape.</summary>
    public static OnnxGraphPlan Build(OnnxModelProto proto, string source, OnnxPreprocessing preprocessing, string? outputName = null, ComputeDevice? device = null)
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

    /// <summary>
    /// <paramref name="p"/> with the input size the graph declares, when the size was not given and the
    /// graph's H and W are numbers (the engine takes square inputs; a non-square declaration is left to the check).
    /// </summary>
    public static OnnxPreprocessing WithDeclaredSize(OnnxPreprocessing p, OnnxModelProto proto)
    {
        if (p.InputSizeGiven) return p;
        var g = proto.Graph;
        var images = g.Inputs.Where(i => !g.Initializers.ContainsKey(i.Name)).ToList();
        if (images is not [{ Dims: { Length: 4 } d }]) return p;
        bool nhwc = d[3] == 3 && d[1] != 3;
        long h = nhwc ? d[1] : d[2], w = nhwc ? d[2] : d[3];
        return h is >= 1 and <= 8192 && w == h ? p with { Height = (int)h, Width = (int)w } : p;
    }

    public OnnxGraphPlan ToDevice(ComputeDevice? device)
    {
        var plan = new OnnxGraphPlan(_proto, _source) { Classes = Classes, _outputName = _outputName };
        plan.Compile(null, device);
        foreach (var (node, count) in _multiplyAdds) plan._multiplyAdds[node] = count;
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
            foreach (var name in _freeAfter[i])
                if (values.Remove(name, out var dead)) tape.Free(dead);
        }
        var result = values[_output];
        // A feature extractor's pooled output [N, C, 1, 1] is its [N, C] features.
        var r = result.Value;
        return r.Rank == 4 && r.Dim(1) == 1 && r.Dim(2) == 1 ? tape.Reshape(result, [r.Dim(0), r.Dim(3)], "features") : result;
    }

    /// <summary>The value an alias chain ends in, walked in a loop (a chain of 200,000 Identity nodes must not overflow the stack).</summary>
    private string Resolve(string name)
    {
        for (int steps = 0; _alias.TryGetValue(name, out var target); steps++)
        {
            if (steps > _alias.Count) throw Error(null, $"the aliases of '{name}' form a cycle.");
            name = target;
        }
        return name;
    }

    private Exception Error(OnnxNode? node, string what) => new OnnxFormatException(node is null ? $"{_source}: {what}" : $"{_source}: {node}: {what}");

    private void Compile(OnnxPreprocessing? preprocessing, ComputeDevice? device)
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

        var misshapen = g.Nodes
            .Select(n => (Node: n, Range: Arity.TryGetValue(n.OpType, out var r) ? r : (1, 1, 1, 1)))
            .Where(x => x.Node.Inputs.Length < x.Range.Item1 || x.Node.Inputs.Length > x.Range.Item2
                     || x.Node.Outputs.Length < x.Range.Item3 || x.Node.Outputs.Length > x.Range.Item4)
            .ToList();
        if (misshapen.Count > 0)
        {
            var (node, (minIn, maxIn, minOut, maxOut)) = misshapen[0];
            static string Range(int lo, int hi) => lo == hi ? $"{lo}" : hi == int.MaxValue ? $"{lo} or more" : $"{lo} to {hi}";
            throw Error(node, $"{node.Inputs.Length} input(s) and {node.Outputs.Length} output(s); {node.OpType} takes {Range(minIn, maxIn)} and gives {Range(minOut, maxOut)}" +
                (misshapen.Count > 1 ? $" ({misshapen.Count - 1} more node(s) like it)." : "."));
        }

        var unrecognized = g.Nodes
            .SelectMany(n => n.Attributes.Keys.Where(a => !DefinedAttributes[n.OpType].Contains(a)).Select(a => $"{n}: '{a}'"))
            .ToList();
        if (unrecognized.Count > 0)
            throw new OnnxFormatException($"{_source}: {unrecognized.Count} attribute(s) that the operator does not define (a misspelling, or another op's): " +
                string.Join("; ", unrecognized.Take(20)) + (unrecognized.Count > 20 ? "; …" : "") + ".");

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

        // The value the output is, through any trailing Identity/Dropout (tf2onnx writes `prob → Identity`):
        // a softmax there is the file's own, whichever aliases follow it, and must not be applied twice.
        string outputThroughAliases = graphOutput;
        for (int hops = 0; producer.TryGetValue(outputThroughAliases, out var last) && last.OpType is "Identity" or "Dropout" && last.Inputs.Length > 0; hops++)
        {
            if (hops > g.Nodes.Count) throw Error(null, $"the output '{graphOutput}' is an alias of itself.");
            outputThroughAliases = last.Inputs[0];
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
            if (node.OpType == "Softmax" && node.Outputs[0] == outputThroughAliases)
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
        var lastUse = new Dictionary<string, int>();
        for (int i = 0; i < _steps.Count; i++)
            foreach (var name in _steps[i].Inputs) lastUse[name] = i;
        _freeAfter = new List<string>[_steps.Count];
        for (int i = 0; i < _steps.Count; i++) _freeAfter[i] = [];
        foreach (var (name, step) in lastUse)
            if (name != _output) _freeAfter[step].Add(name);
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

    private Variable Parameter(float[] values, int[] shape, string name, ComputeDevice? device)
    {
        using var host = Tensor.FromSpan(values, shape);
        ParameterCount += values.Length;
        var parameter = Variable.Parameter(host.To(device), name);
        _parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Gives every parameter's memory back (the model's Dispose).</summary>
    public void ReleaseParameters()
    {
        foreach (var parameter in _parameters)
        {
            parameter.ValueChanged();
            parameter.Value.Dispose();
        }
        _parameters.Clear();
    }

    private static string Describe(Tensor v) => v.Rank == 4 ? $"[N={v.Dim(0)}, C={v.Dim(3)}, H={v.Dim(1)}, W={v.Dim(2)}]" : v.ShapeString;

    private void Count(string node, long multiplyAdds)
    {
        if (_counting) _multiplyAdds[node] = multiplyAdds;
    }

    /// <summary>One zero image through the graph on an inference tape: every shape is checked before any real work, and the class count found.</summary>
    private void CheckShapes(OnnxPreprocessing p)
    {
        // Every tensor of the check counts against one image's budget (a gradient tape keeps them all), and
        // an allocation past it is refused before it happens: a huge size or a 200,000-layer chain fails here.
        using var budget = AllocationBudget.Begin(MaxActivationBytesPerImage);
        using var image = Tensor.Zeros(1, p.Height, p.Width, 3);
        using var tape = Tape.ForInference();
        var (source, scale, shift) = p.ChannelAffine();
        var x = tape.ChannelAffine(tape.Input(image, requiresGrad: false), source, scale, shift, "preprocess");
        _counting = true;
        Variable y;
        try { y = Run(tape, x); }
        finally { _counting = false; }
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
