using NativeIg.Autodiff;
using NativeIg.Tensors;

namespace NativeIg.Onnx;

/// <summary>The ops that map one to one onto the tape (activations, pools, LRN, concat, reshapes, softmax), and the shape arithmetic evaluated at load.</summary>
internal sealed partial class OnnxGraphPlan
{
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
                    if (node.Ints("kernel_shape") is { Length: not 2 }) throw new OnnxUnsupportedException($"{_source}: {node}: only 2-D pooling is supported.");
                    var (kh, kw) = Window(node, "kernel_shape", null);
                    RequireOnes(node, "dilations");
                    if (node.Int("storage_order", 0) != 0) throw new OnnxUnsupportedException($"{_source}: {node}: storage_order = 1 is not supported.");
                    var (sh, sw) = Window(node, "strides", [1, 1]);
                    var (autoPad, pads) = Pads(node);
                    bool ceil = node.Int("ceil_mode", 0) != 0;
                    bool max = node.OpType == "MaxPool";
                    var divisor = node.Int("count_include_pad", 0) != 0 ? AvgPoolDivisor.IncludePadding : AvgPoolDivisor.ValidOnly;
                    if (!max && divisor == AvgPoolDivisor.IncludePadding && (pads[0] != pads[2] || pads[1] != pads[3]))
                        throw new OnnxUnsupportedException($"{_source}: {node}: count_include_pad with unequal begin and end pads is not supported.");
                    run = (t, a) =>
                    {
                        var g = Geometry(a[0].Value, kh, kw, sh, sw, autoPad, pads, ceil);
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
                    long size = node.Int("size", 0);
                    if (size is < 1 or > 1 << 16) throw Error(node, $"size = {size} is out of range (1…{1 << 16}).");
                    var p = new LrnParameters((int)size, node.Float("alpha", 1e-4f), node.Float("beta", 0.75f), node.Float("bias", 1f));
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
}
