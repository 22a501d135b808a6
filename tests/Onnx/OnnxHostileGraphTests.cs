using NativeIg.Onnx;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// Graphs that loaded but answered wrongly or exhausted the machine: a softmax behind an alias, deep
/// chains, sizes and attributes that must be checked before memory is taken, non-finite weights and
/// preprocessing. Each is refused with the file and node named, or now gives ONNX Runtime's answer.
/// </summary>
public class OnnxHostileGraphTests
{
    private static readonly OnnxPreprocessing Eight = new() { Height = 8, Width = 8 };

    private static OnnxWriter Classifier(int size = 8) => OnnxWriter.TinyClassifier(size, flattened: "logits");

    private static string Save(OnnxWriter model) => model.Save(TempDir());

    [Fact]
    public void ASoftmaxFollowedByIdentityIsTheFilesOwnAndNotAppliedTwice()
    {
        var plain = OnnxModel.Load(Save(Classifier().Node("Identity", ["logits"], ["y"])), Eight);
        var withSoftmax = OnnxModel.Load(Save(Classifier().Node("Softmax", ["logits"], ["prob"]).Node("Identity", ["prob"], ["p2"]).Node("Dropout", ["p2"], ["y"])), Eight);
        Assert.True(withSoftmax.EndsInSoftmax);
        using var image = RandomTensor(5, 1, 8, 8, 3);
        using var logits = plain.PredictOutputs(image);
        using var outputs = withSoftmax.PredictOutputs(image);
        Assert.Equal(logits.ToArray(), outputs.ToArray()); // the logits before the file's softmax
        using var expected = plain.PredictProbabilities(image);
        using var probabilities = withSoftmax.PredictProbabilities(image);
        Assert.Equal(expected.ToArray(), probabilities.ToArray());
        Assert.Equal(1.0, probabilities.ToArray().Sum(v => (double)v), 5);
    }

    [Fact]
    public void AChainOf200000IdentityNodesLoadsOnAThreadPoolThread()
    {
        var model = Classifier();
        string last = "logits";
        for (int i = 0; i < 200_000; i++) model.Node("Identity", [last], [last = $"i{i}"]);
        model.Node("Identity", [last], ["y"]);
        var path = Save(model);
        var loaded = Task.Run(() => OnnxModel.Load(path, Eight)).GetAwaiter().GetResult(); // a 1.5 MiB pool stack
        Assert.Equal(4, loaded.Classes);
    }

    [Fact]
    public void AChainOfReluWhoseActivationsExceedTheBudgetIsRefusedAtLoad()
    {
        // 64 channels at 256×256 are 16 MiB per activation: 200 of them pass 2 GiB for one image.
        var model = new OnnxWriter().Input("x", [1, 3, 256, 256]).Output("y", [1, 64])
            .Initializer("w", [64, 3, 1, 1], Random(192, 1))
            .Node("Conv", ["x", "w"], ["r0"], ("kernel_shape", new long[] { 1, 1 }));
        for (int i = 0; i < 200; i++) model.Node(i % 2 == 0 ? "Relu" : "Sigmoid", [$"r{i}"], [$"r{i + 1}"]);
        model.Node("GlobalAveragePool", ["r200"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model)));
        Assert.Contains("over the 2.0 GiB limit", e.Message);
    }

    [Fact]
    public void AHugeInputSizeOnASymbolicModelIsRefusedBeforeTheMemoryIsTaken()
    {
        var model = new OnnxWriter().Input("x", [-1, 3, -1, -1]).Output("y", [1, 64])
            .Initializer("w", [64, 3, 3, 3], Random(64 * 27, 1))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        long before = GC.GetAllocatedBytesForCurrentThread(); // this thread's own: other tests allocate in parallel
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model), new OnnxPreprocessing { Height = 8192, Width = 8192 }));
        Assert.Contains("limit", e.Message);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The 8192² input and its preprocessed copy fit the 2 GiB budget (1.5 GiB); the first convolution's 16 GiB output is refused unallocated.
        Assert.True(allocated < (2L << 30) + (256L << 20), $"{allocated:N0} bytes allocated before the refusal");
    }

    [Fact]
    public void DilationsAreSizedBeforeTheDenseFilterIsAllocated()
    {
        var model = new OnnxWriter().Input("x", [1, 3, 7, 7]).Output("y", [1, 512])
            .Initializer("w", [512, 3, 5, 5], Random(512 * 75, 1))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 5, 5 }), ("dilations", new long[] { 64, 64 }))
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxModel.Load(Save(model), new OnnxPreprocessing { Height = 7, Width = 7 }));
        Assert.Contains("257×257", e.Message);
    }

    [Fact]
    public void AKernelShapeThatContradictsTheFilterIsRefused()
    {
        var model = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 1, 1], Random(12, 1))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }))
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model), Eight));
        Assert.Contains("kernel_shape [3, 3] contradicts", e.Message);
    }

    [Fact]
    public void AnAttributeTheOperatorDoesNotDefineIsRefusedAsOnnxRuntimeRefusesIt()
    {
        var model = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 1, 1], Random(12, 1))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }), ("dilation", new long[] { 2, 2 })) // "dilations" misspelt
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model), Eight));
        Assert.Contains("'dilation'", e.Message);
        Assert.Contains("(Conv)", e.Message);
    }

    [Fact]
    public void ANodeWithMoreInputsThanItsOperatorTakesIsRefused()
    {
        var model = Classifier().Node("Relu", ["logits", "logits"], ["y"]); // Relu takes one input
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model), Eight));
        Assert.Contains("(Relu)", e.Message);
        Assert.Contains("2 input(s)", e.Message);
    }

    [Fact]
    public void AnAttributeOfTheWrongTypeIsRefusedNotReadAsZero()
    {
        var model = BatchNormModel(variance: 1f, ("epsilon", 1)); // an INT epsilon
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(model), Eight));
        Assert.Contains("'epsilon'", e.Message);
        Assert.Contains("INT", e.Message);
    }

    [Fact]
    public void ANegativeBatchNormVarianceIsRefusedAtLoad()
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Save(BatchNormModel(variance: -0.5f)), Eight));
        Assert.Contains("variance", e.Message);
        Assert.Contains("non-finite", e.Message);
    }

    private static OnnxWriter BatchNormModel(float variance, params (string, object)[] attributes) => new OnnxWriter()
        .Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
        .Initializer("w", [4, 3, 1, 1], Random(12, 1))
        .Initializer("s", [4], [1, 1, 1, 1]).Initializer("b", [4], [0, 0, 0, 0]).Initializer("m", [4], [0, 0, 0, 0])
        .Initializer("v", [4], [1, variance, 1, 1])
        .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
        .Node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], attributes)
        .Node("GlobalAveragePool", ["n"], ["g"]).Node("Flatten", ["g"], ["y"]);

    [Fact]
    public void TheDeclaredInputSizeIsUsedWhenNoneIsGiven()
    {
        var path = Save(Classifier(32).Node("Identity", ["logits"], ["y"]));
        var model = OnnxModel.Load(path);
        Assert.Equal([32, 32, 3], model.ImageShape);
        Assert.False(new OnnxPreprocessing().InputSizeGiven);
        Assert.True((new OnnxPreprocessing() with { Height = 32, Width = 32 }).InputSizeGiven);
        var (code, stdout, _) = RunCli("model", path);
        Assert.Equal(0, code);
        Assert.Contains("32", stdout);
        // A size that contradicts the declaration is refused, and the command line names its option.
        var (bad, _, err) = RunCli("model", path, "--input-size", "64");
        Assert.Equal(1, bad);
        Assert.Contains("--input-size", err);
    }

    [Fact]
    public void ANonFiniteOutputIsAnErrorNeverNaNPercent()
    {
        // Weights of 3e38 overflow to ∞ in the convolution's sums for any image that is not black.
        var model = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 1, 1], Enumerable.Repeat(3e38f, 12).ToArray())
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var loaded = OnnxModel.Load(Save(model), Eight);
        using var image = Tensor.FromSpan(Enumerable.Repeat(1f, 192).ToArray(), 1, 8, 8, 3);
        var e = Assert.Throws<OnnxFormatException>(() => loaded.PredictProbabilities(image));
        Assert.Contains("output 0 of image 0", e.Message);
    }

    [Theory]
    [InlineData("--std", "1e-40,1,1")]
    [InlineData("--scale", "1e38")]
    [InlineData("--mean", "1e300,0,0")]
    [InlineData("--scale", "1,2")]
    public void NonFiniteOrMalformedPreprocessingIsAUsageError(string option, string value)
    {
        var (code, _, err) = RunCli("classify", "x.jpg", "--model", "m.onnx", option, value);
        Assert.Equal(2, code);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.Contains(option == "--scale" && value.Contains(',') ? "--scale needs one number" : "Preprocessing channel", err);
    }
}
