using NativeIg.Autodiff;
using NativeIg.Tensors;
using NativeIg.Tensors.Gpu;

namespace NativeIg.InceptionV1;

/// <summary>Any model the engine can differentiate: images [N, H, W, C] in, logits [N, classes] out.</summary>
public interface IDifferentiableModel
{
    /// <summary>The shape of one input image, [H, W, C].</summary>
    int[] ImageShape { get; }
    int Classes { get; }

    /// <summary>Where the parameters live (null: host memory); inputs must be moved there.</summary>
    GpuDevice? Device => null;

    Variable Logits(Tape tape, Variable images);
}

/// <summary>One inception block's filter counts, as in table 1 of the GoogLeNet paper.</summary>
public readonly record struct InceptionSpec(string Name, int Conv1x1, int Reduce3x3, int Conv3x3, int Reduce5x5, int Conv5x5, int PoolProj)
{
    public int Outputs => Conv1x1 + Conv3x3 + Conv5x5 + PoolProj;
}

/// <summary>
/// BVLC GoogLeNet (Caffe's Inception V1) on NHWC float32 RGB images in [0, 1]. The first op maps them
/// to Caffe's input (BGR·255 − mean) inside the differentiable graph, so gradients are with respect to
/// the user's pixels and a black baseline is all zeros.
/// </summary>
public sealed class GoogLeNet : IDifferentiableModel
{
    public const int InputSize = 224;
    public const int ClassCount = 1000;

    /// <summary>Caffe's per-channel mean in B, G, R order.</summary>
    public static readonly float[] MeanBgr = [104f, 117f, 123f];

    public static readonly InceptionSpec[] Blocks =
    [
        //   name            1×1  3×3red 3×3  5×5red 5×5  pool proj
        new("inception_3a",  64,  96,    128, 16,    32,  32),
        new("inception_3b",  128, 128,   192, 32,    96,  64),
        new("inception_4a",  192, 96,    208, 16,    48,  64),
        new("inception_4b",  160, 112,   224, 24,    64,  64),
        new("inception_4c",  128, 128,   256, 24,    64,  64),
        new("inception_4d",  112, 144,   288, 32,    64,  64),
        new("inception_4e",  256, 160,   320, 32,    128, 128),
        new("inception_5a",  256, 160,   320, 32,    128, 128),
        new("inception_5b",  384, 192,   384, 48,    128, 128),
    ];

    private static readonly LrnParameters Lrn = new(Size: 5, Alpha: 1e-4f, Beta: 0.75f, K: 1f);

    /// <summary>Every parameter layer: name, kernel size, input channels, output channels (58 layers).</summary>
    public static IReadOnlyList<(string Name, int Kernel, int Inputs, int Outputs)> ParameterLayers { get; } = BuildLayerTable();

    private readonly Dictionary<string, (Variable Weight, Variable Bias)> _layers;

    public int[] ImageShape => [InputSize, InputSize, 3];
    public int Classes => ClassCount;

    internal GoogLeNet(Dictionary<string, (Variable Weight, Variable Bias)> layers, GpuDevice? device = null)
    {
        _layers = layers;
        Device = device;
    }

    public GpuDevice? Device { get; }

    /// <summary>A copy of the model with its parameters on <paramref name="device"/> (host memory when null).</summary>
    public GoogLeNet ToDevice(GpuDevice? device) =>
        new(_layers.ToDictionary(kv => kv.Key, kv => (
            Variable.Parameter(kv.Value.Weight.Value.To(device), kv.Value.Weight.Name),
            Variable.Parameter(kv.Value.Bias.Value.To(device), kv.Value.Bias.Name))), device);

    public (Variable Weight, Variable Bias) Layer(string name) => _layers[name];

    public long ParameterCount => _layers.Values.Sum(l => (long)l.Weight.Value.Length + l.Bias.Value.Length);

    /// <summary>Loads weights from a caffemodel file (see <see cref="WeightsLoader"/>).</summary>
    public static GoogLeNet Load(string path, bool verifyChecksum = true) => WeightsLoader.Load(path, verifyChecksum);

    public Variable Logits(Tape tape, Variable images)
    {
        var s = images.Value.Shape;
        if (s.Length != 4 || s[1] != InputSize || s[2] != InputSize || s[3] != 3)
            throw new ArgumentException($"GoogLeNet expects images of shape [N, {InputSize}, {InputSize}, 3] (NHWC RGB in [0,1]); got {images.Value.ShapeString}.");

        // RGB [0,1] → BGR·255 − mean: output channel c reads input channel 2 − c.
        var x = tape.ChannelAffine(images, [2, 1, 0], [255f, 255f, 255f], [-MeanBgr[0], -MeanBgr[1], -MeanBgr[2]], "data");
        x = Step(tape, x, t => Conv(tape, t, "conv1/7x7_s2", stride: 2, pad: 3));
        x = Step(tape, x, t => MaxPool(tape, t, 3, 2, 0, "pool1/3x3_s2"));
        x = Step(tape, x, t => tape.Lrn(t, Lrn, "pool1/norm1"));
        x = Step(tape, x, t => Conv(tape, t, "conv2/3x3_reduce", stride: 1, pad: 0));
        x = Step(tape, x, t => Conv(tape, t, "conv2/3x3", stride: 1, pad: 1));
        x = Step(tape, x, t => tape.Lrn(t, Lrn, "conv2/norm2"));
        x = Step(tape, x, t => MaxPool(tape, t, 3, 2, 0, "pool2/3x3_s2"));
        foreach (var block in Blocks)
        {
            x = Step(tape, x, t => Inception(tape, t, block));
            if (block.Name is "inception_3b" or "inception_4e")
                x = Step(tape, x, t => MaxPool(tape, t, 3, 2, 0, block.Name == "inception_3b" ? "pool3/3x3_s2" : "pool4/3x3_s2"));
        }
        var v = x.Value;
        var pool5 = WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), 7, 1, 0);
        x = Step(tape, x, t => tape.AvgPool(t, pool5, AvgPoolDivisor.IncludePadding, "pool5/7x7_s1"));
        // pool5/drop_7x7_s1 (dropout) is the identity at inference.
        var (w, b) = _layers["loss3/classifier"];
        return Step(tape, x, t => tape.FullyConnected(t, w, b, "loss3/classifier"));
    }

    /// <summary>Class probabilities [N, 1000] = softmax(logits).</summary>
    public Variable Probabilities(Tape tape, Variable images) => tape.Softmax(Logits(tape, images), "prob");

    /// <summary>Inference: probabilities [N, 1000] for images [N, 224, 224, 3], keeping no activations.</summary>
    public Tensor PredictProbabilities(Tensor images)
    {
        using var onDevice = Device is null ? null : images.To(Device);
        using var tape = Tape.ForInference();
        var probabilities = Probabilities(tape, tape.Input(onDevice ?? images, requiresGrad: false));
        return probabilities.Value.ToHost();
    }

    /// <summary>The k most probable classes of one probability row, best first.</summary>
    public static (int Index, float Probability)[] TopK(ReadOnlySpan<float> probabilities, int k)
    {
        var order = new int[probabilities.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var values = probabilities.ToArray();
        Array.Sort(order, (a, b) => values[b].CompareTo(values[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order.Take(Math.Clamp(k, 0, order.Length)).Select(i => (i, values[i])).ToArray();
    }

    /// <summary>Applies one stage and, on an inference tape, frees its input at once.</summary>
    private static Variable Step(Tape tape, Variable input, Func<Variable, Variable> stage)
    {
        var output = stage(input);
        tape.Free(input);
        return output;
    }

    private Variable Inception(Tape tape, Variable x, InceptionSpec b)
    {
        var n = b.Name;
        var branch1 = Conv(tape, x, $"{n}/1x1", 1, 0);
        var branch3 = Step(tape, Conv(tape, x, $"{n}/3x3_reduce", 1, 0), t => Conv(tape, t, $"{n}/3x3", 1, 1));
        var branch5 = Step(tape, Conv(tape, x, $"{n}/5x5_reduce", 1, 0), t => Conv(tape, t, $"{n}/5x5", 1, 2));
        var branchPool = Step(tape, MaxPool(tape, x, 3, 1, 1, $"{n}/pool"), t => Conv(tape, t, $"{n}/pool_proj", 1, 0));
        var output = tape.Concat($"{n}/output", branch1, branch3, branch5, branchPool);
        foreach (var part in new[] { branch1, branch3, branch5, branchPool }) tape.Free(part);
        return output;
    }

    private Variable Conv(Tape tape, Variable x, string name, int stride, int pad)
    {
        var (w, b) = _layers[name];
        return tape.Conv2d(x, w, b, stride, pad, relu: true, name);
    }

    private static Variable MaxPool(Tape tape, Variable x, int kernel, int stride, int pad, string name)
    {
        var v = x.Value;
        return tape.MaxPool(x, WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), kernel, stride, pad), name);
    }

    private static List<(string, int, int, int)> BuildLayerTable()
    {
        var layers = new List<(string, int, int, int)>
        {
            ("conv1/7x7_s2", 7, 3, 64),
            ("conv2/3x3_reduce", 1, 64, 64),
            ("conv2/3x3", 3, 64, 192),
        };
        int channels = 192;
        foreach (var b in Blocks)
        {
            layers.Add(($"{b.Name}/1x1", 1, channels, b.Conv1x1));
            layers.Add(($"{b.Name}/3x3_reduce", 1, channels, b.Reduce3x3));
            layers.Add(($"{b.Name}/3x3", 3, b.Reduce3x3, b.Conv3x3));
            layers.Add(($"{b.Name}/5x5_reduce", 1, channels, b.Reduce5x5));
            layers.Add(($"{b.Name}/5x5", 5, b.Reduce5x5, b.Conv5x5));
            layers.Add(($"{b.Name}/pool_proj", 1, channels, b.PoolProj));
            channels = b.Outputs;
        }
        layers.Add(("loss3/classifier", 0, channels, ClassCount));
        return layers;
    }
}
