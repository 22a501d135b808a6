using NativeIg.Onnx;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Bad ONNX files and graphs: each a clear error naming the file and the node, before any work; never a crash.</summary>
public class OnnxHostileInputTests
{
    private static readonly OnnxPreprocessing Eight = new() { Height = 8, Width = 8 };

    private static OnnxWriter Valid() => OnnxWriter.TinyClassifier();

    private static T Refused<T>(OnnxWriter model, params string[] mentions) where T : Exception => Refused<T>(model.ToArray(), mentions);

    private static T Refused<T>(byte[] bytes, params string[] mentions) where T : Exception
    {
        var path = Path.Combine(TempDir(), "model.onnx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<T>(() => OnnxModel.Load(path, Eight));
        Assert.Contains(path, e.Message);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    [Fact]
    public void TheValidSeedLoads() => Assert.Equal(4, OnnxModel.Load(Valid().Save(TempDir()), Eight).Classes);

    [Fact]
    public void UnsupportedOpsAreAllNamedAtOnce()
    {
        var model = Valid().Node("Foo", ["y"], ["z"]).Node("Bar", ["z"], ["q"]);
        var e = Refused<OnnxUnsupportedException>(model, "2 node(s)", "(Foo)", "(Bar)", "foo_3", "bar_4", "Supported:");
        // The command line says the same and exits 1.
        var path = model.Save(TempDir());
        var (code, _, err) = RunCli("model", path);
        Assert.Equal(1, code);
        Assert.Contains("(Foo)", err);
        Assert.Contains("(Bar)", err);
        Assert.Contains(e.Message.Split(':')[1].Trim(), err);
    }

    [Fact]
    public void TruncatedEmptyAndNonOnnxFilesAreFormatErrors()
    {
        var bytes = Valid().ToArray();
        Refused<OnnxFormatException>(bytes[..(bytes.Length / 2)], "truncated file?");
        Refused<OnnxFormatException>([], "empty");
        Refused<OnnxFormatException>(System.Text.Encoding.ASCII.GetBytes("this is not a model\n"));
        Refused<OnnxFormatException>(new OnnxWriter { IrVersion = 2 }.Input("x", [1, 3, 8, 8]).ToArray(), "IR version 2");
    }

    [Fact]
    public void AnUndefinedTensorAndACycleNameTheNode()
    {
        Refused<OnnxFormatException>(Valid().Node("Relu", ["nowhere"], ["r"]), "relu_3", "'nowhere'", "nothing in the graph defines");
        var cycle = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("b", [1, 3, 8, 8])
            .Node("Add", ["x", "b"], ["a"]).Node("Relu", ["a"], ["b"]);
        Refused<OnnxFormatException>(cycle, "add_0", "'b'", "cycle");
    }

    [Fact]
    public void InputsThatAreNotFloatImagesAreRefused()
    {
        Refused<OnnxFormatException>(new OnnxWriter().Input("x", [1, 3, 8, 8], elementType: 7).Output("y", [1, 3, 8, 8]).Node("Relu", ["x"], ["y"]), "'x'", "Int64", "float");
        Refused<OnnxFormatException>(new OnnxWriter().Input("x", [1, 24]).Output("y", [1, 24]).Node("Relu", ["x"], ["y"]), "rank 2", "[N, C, H, W]");
        Refused<OnnxFormatException>(new OnnxWriter().Input("x", [1, 3, 100, 100]).Output("y", [1, 3, 100, 100]).Node("Relu", ["x"], ["y"]), "100×100", "8×8");
        Refused<OnnxFormatException>(new OnnxWriter().Input("x", [1, 1, 8, 8]).Output("y", [1, 1, 8, 8]).Node("Relu", ["x"], ["y"]), "1 channels");
    }

    [Fact]
    public void NaNWeightsAndAttributesAreRefusedNotPropagated()
    {
        var nanWeight = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 1, 1], [.. Random(11, 1), float.NaN])
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 })).Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(nanWeight, "'w'", "value 11 is NaN");
        var infWeight = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .Initializer("w", [4, 3, 1, 1], [float.PositiveInfinity, .. Random(11, 1)])
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 })).Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(infWeight, "'w'", "value 0 is Infinity");
        Refused<OnnxFormatException>(Valid().Node("LeakyRelu", ["y"], ["z"], ("alpha", float.NaN)), "attribute 'alpha' is NaN");
    }

    [Fact]
    public void OverflowingWindowAttributesAreRefusedNotWrapped()
    {
        // 2^32 + 1 would become 1 as an int: a silently different network.
        var pads = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4]).Initializer("w", [4, 3, 3, 3], Random(108, 1))
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 4294967297, 1, 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(pads, "conv_0", "pads [4294967297, 1, 1, 1]", "0…65536");
        var strides = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Node("MaxPool", ["x"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 1L << 40, 2 }))
            .Node("GlobalAveragePool", ["p"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(strides, "maxpool_0", "strides", "1…65536");
        var lrn = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 3])
            .Node("LRN", ["x"], ["n"], ("size", 1L << 33)).Node("GlobalAveragePool", ["n"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(lrn, "lrn_0", "size = 8589934592 is out of range");
        var group = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 3, 8, 8]).Initializer("w", [3, 1, 1, 1], Random(3, 2))
            .Node("Conv", ["x", "w"], ["y"], ("kernel_shape", new long[] { 1, 1 }), ("group", -3L));
        Refused<OnnxFormatException>(group, "conv_0", "group = -3 is out of range");
    }

    [Fact]
    public void ExternalDataMustExistAndStayBesideTheModel()
    {
        var dir = TempDir();
        var missing = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
            .ExternalInitializer("w", [4, 3, 1, 1], "weights.bin", 48)
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 })).Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        var path = missing.Save(dir);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(path, Eight));
        Assert.Contains("'weights.bin' is missing", e.Message);
        // With the file beside the model it loads and reads the values from it.
        File.WriteAllBytes(Path.Combine(dir, "weights.bin"), Random(12, 1).SelectMany(BitConverter.GetBytes).ToArray());
        Assert.Equal(4, OnnxModel.Load(path, Eight).Classes);
        var outside = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4]).ExternalInitializer("w", [4, 3, 1, 1], "../elsewhere.bin", 48)
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 })).Node("GlobalAveragePool", ["c"], ["g"]).Node("Flatten", ["g"], ["y"]);
        Refused<OnnxFormatException>(outside, "outside the model's folder");
    }

    [Fact]
    public void UnsupportedAttributesAndShapesNameTheNode()
    {
        var oddGroups = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 3, 8, 8]).Initializer("w", [3, 1, 1, 1], Random(3, 2))
            .Node("Conv", ["x", "w"], ["y"], ("kernel_shape", new long[] { 1, 1 }), ("group", 2L));
        Refused<OnnxFormatException>(oddGroups, "conv_0", "group = 2 does not divide");
        var dilated = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 4, 4, 4]).Initializer("w", [4, 3, 3, 3], Random(108, 2))
            .Node("Conv", ["x", "w"], ["y"], ("kernel_shape", new long[] { 3, 3 }), ("dilations", new long[] { 0, 2 }));
        Refused<OnnxFormatException>(dilated, "conv_0", "dilations [0, 2]");
        // A graph whose output is not [N, classes]: refused with the output named, at load.
        var notLogits = new OnnxWriter().Input("x", [1, 3, 8, 8]).Output("y", [1, 3, 8, 8]).Node("Relu", ["x"], ["y"]);
        Refused<OnnxFormatException>(notLogits, "the output 'y'", "[N, classes]");
        var tooBig = Valid().Initializer("huge", [1 << 20, 1 << 20], []);
        Refused<OnnxFormatException>(tooBig, "'huge'", "more than the");
    }
}
