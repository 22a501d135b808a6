using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NativeIg.Onnx;
using Xunit;
using static NativeIg.Tests.TestUtil;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Tests;

/// <summary>
/// Small graphs written by the test (<see cref="OnnxWriter"/>), one per group of operators and
/// attributes, through the importer and through ONNX Runtime on the same bytes: the forward must agree
/// (float32 sums in another order: 1e-5). Their backward is the engine ops' (OpCheckTests).
/// </summary>
public class OnnxImportTests
{
    /// <summary>No preprocessing: the model sees the image's RGB values as they are.</summary>
    private static OnnxPreprocessing Identity(int size) => new() { Height = size, Width = size, Mean = [0, 0, 0], Std = [1, 1, 1] };

    private static float[] R(int n, int seed, float scale = 0.5f) => Random(n, seed).Select(v => v * scale).ToArray();

    public static TheoryData<string> Graphs => new(s_graphs.Keys);

    private static readonly Dictionary<string, (int Size, Func<OnnxWriter> Build)> s_graphs = new()
    {
        ["conv 3×3 pad 1 + bias + relu, max pool 2/2, global average pool, flatten, Gemm transB"] = (8, () => new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 5])
            .Initializer("w", [4, 3, 3, 3], R(108, 1)).Initializer("b", [4], R(4, 2)).Initializer("fc", [5, 4], R(20, 3)).Initializer("fcb", [5], R(5, 4))
            .Node("Conv", ["x", "w", "b"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["c"], ["r"])
            .Node("MaxPool", ["r"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("GlobalAveragePool", ["p"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc", "fcb"], ["y"], ("transB", 1L))),
        ["conv stride 2 SAME_UPPER folded batch norm, unfolded batch norm, per-channel Add and Mul, mean-image Sub, MatMul"] = (8, () => new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [4, 3, 3, 3], R(108, 5))
            .Initializer("s1", [4], R(4, 6).Select(v => 1 + v).ToArray()).Initializer("b1", [4], R(4, 7)).Initializer("m1", [4], R(4, 8)).Initializer("v1", [4], R(4, 9).Select(v => 1 + v).ToArray())
            .Initializer("s2", [4], R(4, 10).Select(v => 1 + v).ToArray()).Initializer("b2", [4], R(4, 11)).Initializer("m2", [4], R(4, 12)).Initializer("v2", [4], R(4, 13).Select(v => 0.5f + v).ToArray())
            .Initializer("add", [1, 4, 1, 1], R(4, 14)).Initializer("mul", [1, 4, 1, 1], R(4, 15).Select(v => 1 + v).ToArray())
            .Initializer("image", [1, 4, 2, 2], R(16, 16)).Initializer("mm", [4, 3], R(12, 17))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER"))
            .Node("BatchNormalization", ["c", "s1", "b1", "m1", "v1"], ["bn1"], ("epsilon", 1e-3f))
            .Node("MaxPool", ["bn1"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("BatchNormalization", ["p", "s2", "b2", "m2", "v2"], ["bn2"])
            .Node("Add", ["bn2", "add"], ["a"])
            .Node("Mul", ["a", "mul"], ["mu"])
            .Node("Sub", ["mu", "image"], ["su"])
            .Node("GlobalAveragePool", ["su"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("MatMul", ["f", "mm"], ["y"])),
        ["asymmetric pads 7×7/2, pads [1,1,0,0] max pool, average pool without pad count, residual Add, LRN, Concat, global max pool, Gemm α β, Softmax"] = (16, () => new OnnxWriter()
            .Input("x", [-1, 3, 16, 16]).Output("y", [-1, 4])
            .Initializer("w", [6, 3, 7, 7], R(882, 18, 0.2f)).Initializer("w2", [6, 6, 3, 3], R(324, 19, 0.2f)).Initializer("fc", [12, 4], R(48, 20)).Initializer("fcb", [4], R(4, 21))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 7, 7 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 3, 3, 2, 2 }))
            .Node("Relu", ["c"], ["r"])
            .Node("MaxPool", ["r"], ["p"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 0, 0 }))
            .Node("Conv", ["p", "w2"], ["c2"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Add", ["c2", "p"], ["res"])
            .Node("AveragePool", ["res"], ["ap"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("count_include_pad", 0L))
            .Node("LRN", ["ap"], ["n"], ("size", 3L), ("alpha", 0.5f), ("beta", 0.75f), ("bias", 1.5f))
            .Node("Concat", ["n", "res"], ["cat"], ("axis", 1L))
            .Node("GlobalMaxPool", ["cat"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc", "fcb"], ["logits"], ("alpha", 0.5f), ("beta", 2f))
            .Node("Softmax", ["logits"], ["y"], ("axis", 1L))),
        ["activations (LeakyRelu, Clip as ReLU6 with input bounds, HardSwish, HardSigmoid, Sigmoid, Tanh), ReduceMean, Squeeze, Unsqueeze, LogSoftmax"] = (8, () => new OnnxWriter { Opset = 14 }
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [6, 3, 3, 3], R(162, 24, 2f)).Initializer("lo", [], [0f]).Initializer("hi", [], [6f]).Int64Initializer("axes", [2, 3])
            .Initializer("fc", [3, 6], R(18, 25))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("LeakyRelu", ["c"], ["l"], ("alpha", 0.2f))
            .Node("Clip", ["l", "lo", "hi"], ["r6"])
            .Node("HardSwish", ["c"], ["hs"])
            .Node("HardSigmoid", ["hs"], ["hg"], ("alpha", 0.3f), ("beta", 0.4f))
            .Node("Sigmoid", ["r6"], ["s"])
            .Node("Tanh", ["hg"], ["th"])
            .Node("Add", ["s", "th"], ["sum"])
            .Node("ReduceMean", ["sum"], ["m"], ("axes", new long[] { 2, 3 }), ("keepdims", 1L))
            .Node("Squeeze", ["m", "axes"], ["sq"])
            .Node("Unsqueeze", ["sq", "axes"], ["un"])
            .Node("Squeeze", ["un", "axes"], ["f"])
            .Node("Gemm", ["f", "fc"], ["logits"], ("transB", 1L))
            .Node("LogSoftmax", ["logits"], ["y"], ("axis", 1L))),
        ["MobileNet block: pointwise conv, BN, ReLU6, depthwise 3×3 stride 2 with BN folded, ReLU6, pointwise, residual-free head, opset 10 (Clip's bounds as attributes)"] = (9, () => new OnnxWriter { Opset = 10 }
            .Input("x", [1, 3, 9, 9]).Output("y", [1, 4])
            .Initializer("pw", [8, 3, 1, 1], R(24, 26)).Initializer("dw", [8, 1, 3, 3], R(72, 27)).Initializer("dwb", [8], R(8, 28))
            .Initializer("s", [8], R(8, 29).Select(v => 1 + v).ToArray()).Initializer("b", [8], R(8, 30)).Initializer("m", [8], R(8, 31)).Initializer("v", [8], R(8, 32).Select(v => 1 + v).ToArray())
            .Initializer("pw2", [4, 8, 1, 1], R(32, 33))
            .Node("Conv", ["x", "pw"], ["c1"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("Clip", ["c1"], ["r1"], ("min", 0f), ("max", 6f))
            .Node("Conv", ["r1", "dw", "dwb"], ["c2"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("group", 8L))
            .Node("BatchNormalization", ["c2", "s", "b", "m", "v"], ["bn"])
            .Node("Relu", ["bn"], ["r2"])
            .Node("Conv", ["r2", "pw2"], ["c3"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("GlobalAveragePool", ["c3"], ["g"])
            .Node("Flatten", ["g"], ["y"])),
        ["PyTorch-style: a zero Pad folded into the conv, PRelu, Cast, and x.view(x.size(0), -1) as Shape → Gather → Unsqueeze → Concat → Reshape"] = (8, () => new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [4, 3, 3, 3], R(108, 34)).Int64Initializer("pads", [0, 0, 1, 2, 0, 0, 2, 1]).Initializer("slope", [4, 1, 1], [0.1f, -0.2f, 0.3f, 0.05f])
            .Int64Scalar("zero", 0).Int64Initializer("axes", [0]).Int64Initializer("minus1", [-1]).Initializer("fc", [3, 4], R(12, 35))
            .Node("Pad", ["x", "pads"], ["padded"])
            .Node("Conv", ["padded", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }))
            .Node("PRelu", ["c", "slope"], ["p"])
            .Node("Cast", ["p"], ["pc"], ("to", 1L))
            .Node("GlobalAveragePool", ["pc"], ["g"])
            .Node("Shape", ["g"], ["shape"])
            .Node("Gather", ["shape", "zero"], ["batch"], ("axis", 0L))
            .Node("Unsqueeze", ["batch", "axes"], ["batch1"])
            .Node("Concat", ["batch1", "minus1"], ["target"], ("axis", 0L))
            .Node("Reshape", ["g", "target"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))),
        ["grouped convolution (group 2) and dilated convolutions (2×2 and 1×3)"] = (10, () => new OnnxWriter()
            .Input("x", [1, 3, 10, 10]).Output("y", [1, 2])
            .Initializer("w1", [4, 3, 3, 3], R(108, 36)).Initializer("w2", [6, 2, 3, 3], R(108, 37)).Initializer("b2", [6], R(6, 38))
            .Initializer("w3", [4, 6, 3, 2], R(144, 39)).Initializer("fc", [2, 4], R(8, 40))
            .Node("Conv", ["x", "w1"], ["c1"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 2, 2, 2, 2 }), ("dilations", new long[] { 2, 2 }))
            .Node("Conv", ["c1", "w2", "b2"], ["c2"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("group", 2L))
            .Node("Relu", ["c2"], ["r"])
            .Node("Conv", ["r", "w3"], ["c3"], ("kernel_shape", new long[] { 3, 2 }), ("strides", new long[] { 2, 1 }), ("dilations", new long[] { 1, 3 }))
            .Node("GlobalAveragePool", ["c3"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))),
        ["squeeze-and-excitation: global pool, two 1×1 convs, HardSigmoid gates, Mul of the map by [N, C, 1, 1]"] = (8, () => new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [6, 3, 3, 3], R(162, 41)).Initializer("se1", [2, 6, 1, 1], R(12, 42)).Initializer("se2", [6, 2, 1, 1], R(12, 43)).Initializer("fc", [3, 6], R(18, 44))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["squeezed"])
            .Node("Conv", ["squeezed", "se1"], ["e1"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("Relu", ["e1"], ["e1r"])
            .Node("Conv", ["e1r", "se2"], ["e2"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("HardSigmoid", ["e2"], ["gates"])
            .Node("Mul", ["c", "gates"], ["excited"])
            .Node("GlobalAveragePool", ["excited"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))),
        ["VGG-style head: Flatten of a 2×2 map into a Gemm (NCHW order), scalar Mul, Div, Add and Sub"] = (8, () => new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [4, 3, 3, 3], R(108, 48)).Initializer("half", [], [0.5f]).Initializer("four", [1], [4f]).Initializer("shift", [], [0.25f])
            .Initializer("fc", [3, 16], R(48, 49))
            .Node("Mul", ["x", "half"], ["xs"])
            .Node("Sub", ["xs", "shift"], ["xc"])
            .Node("Conv", ["xc", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("MaxPool", ["c"], ["p"], ("kernel_shape", new long[] { 4, 4 }), ("strides", new long[] { 4, 4 }))
            .Node("Div", ["p", "four"], ["pd"])
            .Node("Add", ["pd", "shift"], ["pa"])
            .Node("Flatten", ["pa"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))),
        ["max pool ceil_mode, Dropout and Identity, a Reshape to [N, -1], conv with count_include_pad average pool"] = (9, () => new OnnxWriter()
            .Input("x", [1, 3, 9, 9]).Output("y", [1, 2])
            .Initializer("w", [2, 3, 1, 1], R(6, 22)).Int64Initializer("shape2", [1, -1]).Initializer("fc", [2, 2], R(4, 23))
            .Node("MaxPool", ["x"], ["p"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L))
            .Node("Dropout", ["p"], ["d"])
            .Node("Conv", ["d", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("AveragePool", ["c"], ["ap"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("count_include_pad", 1L))
            .Node("Identity", ["ap"], ["i"])
            .Node("GlobalAveragePool", ["i"], ["g"])
            .Node("Reshape", ["g", "shape2"], ["f"])
            .Node("MatMul", ["f", "fc"], ["y"])),
    };

    [Theory]
    [MemberData(nameof(Graphs))]
    public void ForwardMatchesOnnxRuntime(string name)
    {
        var (size, build) = s_graphs[name];
        var dir = TempDir();
        var path = build().Save(dir);
        var model = OnnxModel.Load(path, Identity(size));
        using var image = Tensor.FromSpan(Random(size * size * 3, 30, 0f, 1f), size, size, 3);
        using var batch = image.Reshape(1, size, size, 3);
        using var ours = model.EndsInSoftmax ? model.PredictProbabilities(batch) : model.PredictOutputs(batch);
        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1 });
        var input = new DenseTensor<float>([1, 3, size, size]);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) input[0, c, y, x] = image[(y * size + x) * 3 + c];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var expected = results.First().AsEnumerable<float>().ToArray();
        AssertClose(expected, ours.Span, 1e-5, 1e-5, $"{name}: importer vs ONNX Runtime");
    }

    /// <summary>
    /// The imported graph's input gradient (its ops' backward passes chained by the tape) against central
    /// differences of its own float32 forward: h = 1e-3 (small enough to cross few ReLU and pool kinks)
    /// and a loose tolerance, as for the composite
    /// network, because this catches wiring mistakes; each op's maths is checked in double by OpCheck.
    /// </summary>
    [Theory]
    [MemberData(nameof(Graphs))]
    public void InputGradientsMatchFiniteDifferences(string name)
    {
        var (size, build) = s_graphs[name];
        var model = OnnxModel.Load(build().Save(TempDir()), Identity(size));
        var x = Random(size * size * 3, 50, 0f, 1f);
        using var X = Tensor.FromSpan(x, 1, size, size, 3);
        using var tape = new NativeIg.Autodiff.Tape();
        var input = tape.Input(X);
        var y = model.Logits(tape, input);
        var seed = Random(y.Value.Length, 51);
        using var S = Tensor.FromSpan(seed, y.Value.Shape.ToArray());
        tape.Backward(y, S);
        double[] Forward(double[] v)
        {
            using var image = Tensor.FromSpan(v.Select(d => (float)d).ToArray(), 1, size, size, 3);
            using var outputs = model.PredictOutputs(image);
            return ToDouble(outputs.Span);
        }
        var numeric = OpCheck.NumericGradient(Forward, ToDouble(x), ToDouble(seed), 1e-3);
        AssertClose(ToFloat(numeric), input.Grad!.Span, 2e-4, 2e-2, $"{name}: dX vs finite differences");
        input.Grad.Dispose();
    }

    /// <summary>A TensorFlow-style export: NHWC input transposed to NCHW first, and a transpose of the pooled map back.</summary>
    [Fact]
    public void AnNhwcInputTransposedToNchwMatchesOnnxRuntime()
    {
        var path = new OnnxWriter()
            .Input("x", [1, 8, 8, 3]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 3, 3], R(108, 45)).Initializer("fc", [4, 4], R(16, 46))
            .Node("Transpose", ["x"], ["nchw"], ("perm", new long[] { 0, 3, 1, 2 }))
            .Node("Conv", ["nchw", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("GlobalMaxPool", ["c"], ["g"])
            .Node("Transpose", ["g"], ["nhwc"], ("perm", new long[] { 0, 2, 3, 1 }))
            .Node("Flatten", ["nhwc"], ["f"])
            .Node("MatMul", ["f", "fc"], ["y"])
            .Save(TempDir());
        var model = OnnxModel.Load(path, Identity(8));
        using var image = Tensor.FromSpan(Random(8 * 8 * 3, 47, 0f, 1f), 8, 8, 3);
        using var batch = image.Reshape(1, 8, 8, 3);
        using var ours = model.PredictOutputs(batch);
        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(image.ToArray(), [1, 8, 8, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        AssertClose(results.First().AsEnumerable<float>().ToArray(), ours.Span, 1e-5, 1e-5, "NHWC graph: importer vs ONNX Runtime");
    }

    /// <summary>float16 and float64 weights are read as float32, with a note each; the values survive the conversion.</summary>
    [Fact]
    public void HalfAndDoubleInitializersAreConvertedWithANote()
    {
        var w = R(12, 52);
        var halves = w.Select(v => (Half)v).ToArray();
        var path = new OnnxWriter()
            .Input("x", [1, 3, 4, 4]).Output("y", [1, 4])
            .RawInitializer("w", [4, 3, 1, 1], 10, halves.SelectMany(h => BitConverter.GetBytes(h)).ToArray())
            .RawInitializer("b", [4], 11, new double[] { 0.5, -0.25, 1e-3, 2 }.SelectMany(BitConverter.GetBytes).ToArray())
            .Node("Conv", ["x", "w", "b"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["g"])
            .Node("Flatten", ["g"], ["y"])
            .Save(TempDir());
        var proto = OnnxReader.ReadFile(path);
        Assert.Equal(halves.Select(h => (float)h).ToArray(), proto.Graph.Initializers["w"].Floats);
        Assert.Equal(new[] { 0.5f, -0.25f, 1e-3f, 2f }, proto.Graph.Initializers["b"].Floats);
        Assert.Contains(proto.Notes, n => n.Contains("float16 values converted to float32"));
        Assert.Contains(proto.Notes, n => n.Contains("float64 values converted to float32"));
        var model = OnnxModel.Load(path, Identity(4));
        Assert.Contains(model.Notes, n => n.Contains("float16"));
        using var image = Tensor.Filled(1f, 1, 4, 4, 3);
        using var y = model.PredictOutputs(image);
        // A 1×1 convolution of an all-ones image, averaged: Σ_i w[o, i] + b[o].
        for (int o = 0; o < 4; o++) Assert.Equal((float)halves[o * 3] + (float)halves[o * 3 + 1] + (float)halves[o * 3 + 2] + new[] { 0.5f, -0.25f, 1e-3f, 2f }[o], y[o], 5);
    }

    [Fact]
    public void ASidecarGivesThePreprocessing()
    {
        var dir = TempDir();
        var path = s_graphs.First().Value.Build().Save(dir);
        File.WriteAllText(path + ".json", """{ "inputSize": [8, 8], "channelOrder": "BGR", "scale": 255, "mean": [1, 2, 3], "std": [2, 2, 2] }""");
        var model = OnnxModel.Load(path);
        Assert.Equal(new OnnxPreprocessing { Height = 8, Width = 8, Bgr = true, Scale = 255, Mean = [1, 2, 3], Std = [2, 2, 2] }.ChannelAffine().Shift, model.Preprocessing.ChannelAffine().Shift);
        Assert.True(model.Preprocessing.Bgr);
        File.WriteAllText(path + ".json", """{ "inputSize": [8], "mean": [1, 2] }""");
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(path));
        Assert.Contains("model.onnx.json", e.Message);
        Assert.Contains("3 means", e.Message);
    }
}

/// <summary>An imported model on ILGPU's CPU accelerator (ToDevice) gives the host's outputs and attributions.</summary>
[Collection("ilgpu")]
public class OnnxDeviceTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void AnImportedModelOnADeviceMatchesTheHost()
    {
        var path = new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Initializer("w", [4, 3, 3, 3], Random(108, 1)).Initializer("s", [4], Random(4, 2).Select(v => 1 + v / 2).ToArray())
            .Initializer("b", [4], Random(4, 3)).Initializer("m", [4], Random(4, 4)).Initializer("v", [4], Random(4, 5).Select(v => 1 + v / 2).ToArray())
            .Initializer("bias", [1, 4, 1, 1], Random(4, 6)).Initializer("fc", [4, 3], Random(12, 7))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"])
            .Node("Relu", ["bn"], ["r"])
            .Node("Add", ["r", "bias"], ["a"])
            .Node("MaxPool", ["a"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("GlobalAveragePool", ["p"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("MatMul", ["f", "fc"], ["y"])
            .Save(TempDir());
        var preprocessing = new NativeIg.Onnx.OnnxPreprocessing { Height = 8, Width = 8, MeanImage = Random(3 * 64, 8) };
        var host = NativeIg.Onnx.OnnxModel.Load(path, preprocessing);
        var device = host.ToDevice(fixture.Device);
        using var image = NativeIg.Tensors.Tensor.FromSpan(Random(8 * 8 * 3, 9, 0f, 1f), 8, 8, 3);
        using var batch = image.Reshape(1, 8, 8, 3);
        using var onHost = host.PredictOutputs(batch);
        using var onDevice = device.PredictOutputs(batch);
        AssertClose(onHost.Span, onDevice.Span, 1e-6, 1e-5, "outputs on ilgpu-cpu vs host");
        using var baseline = NativeIg.Tensors.Tensor.Zeros(8, 8, 3);
        using var a = new NativeIg.Ig.IntegratedGradients(host).Attribute(image, baseline, 1, steps: 16, batchSize: 8, output: NativeIg.Ig.TargetOutput.Logit);
        using var b = new NativeIg.Ig.IntegratedGradients(device).Attribute(image, baseline, 1, steps: 16, batchSize: 8, output: NativeIg.Ig.TargetOutput.Logit);
        AssertClose(a.Attributions.Span, b.Attributions.Span, 1e-6, 1e-4, "attributions on ilgpu-cpu vs host");
    }
}
