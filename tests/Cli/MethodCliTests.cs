using System.Text.Json;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>`explain --method/--layer/--neuron`, `compare` and `sanity` end to end: the files, the report, and every bad combination refused before any work.</summary>
public class MethodCliTests
{
    private static string Fireboat => Shared("images/fireboat.jpg");

    private static JsonElement Explain(string outDir, params string[] options)
    {
        var (code, output, error) = RunCli(["explain", Fireboat, "--out", outDir, "--json", .. options, .. ModelArguments]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    [SharedFact]
    public void GradientAndGradientTimesInputWriteTheirMapsAndNameTheMethod()
    {
        var dir = TempDir();
        var json = Explain(dir, "--method", "grad-x-input");
        Assert.Equal("grad-x-input", json.GetProperty("method").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("delta").ValueKind); // no path, no completeness
        // The files in the one shape every method's JSON has: name without extension → path, as for IG.
        Assert.True(File.Exists(json.GetProperty("files").GetProperty("figure").GetString()));
        Assert.True(File.Exists(json.GetProperty("files").GetProperty("attributions").GetString()));
        foreach (var name in new[] { "figure.png", "mask.png", "overlay.png", "attributions.npy" }) Assert.True(File.Exists(Path.Combine(dir, name)), name);
        using var a = NativeIg.Tensors.IO.Npy.Read(Path.Combine(dir, "attributions.npy"));
        Assert.Equal(new[] { 224, 224, 3 }, a.Shape.ToArray());
    }

    [SharedFact]
    public void SmoothGradIsSeededAndRepeatable()
    {
        var (d1, d2) = (TempDir(), TempDir());
        var json = Explain(d1, "--method", "smoothgrad", "--noise-samples", "3", "--noise-seed", "5");
        Explain(d2, "--method", "smoothgrad", "--noise-samples", "3", "--noise-seed", "5", "--batch", "1", "--threads", "1");
        Assert.Equal(3, json.GetProperty("parameters").GetProperty("noise_samples").GetInt32());
        Assert.Equal(File.ReadAllBytes(Path.Combine(d1, "attributions.npy")), File.ReadAllBytes(Path.Combine(d2, "attributions.npy")));
    }

    [SharedFact]
    public void BlurIgReportsItsDeltaAgainstTheBlurredImage()
    {
        var dir = TempDir();
        var json = Explain(dir, "--method", "blur-ig", "--steps", "8");
        Assert.Equal(50, json.GetProperty("parameters").GetProperty("max_sigma").GetDouble());
        double sum = json.GetProperty("sum").GetDouble(), fx = json.GetProperty("f_input").GetDouble(), fb = json.GetProperty("f_baseline").GetDouble();
        Assert.Equal(sum - (fx - fb), json.GetProperty("delta").GetDouble(), 9);
        Assert.True(File.Exists(Path.Combine(dir, "saturation.png")));
    }

    [SharedFact]
    public void LayerIgNamesItsStrongestChannelsAndNeuronIgItsChannel()
    {
        var dir = TempDir();
        var json = Explain(dir, "--layer", "inception_4d/output", "--steps", "4");
        Assert.Equal([14, 14, 528], json.GetProperty("layer_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(10, json.GetProperty("top_channels").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(dir, "layer-attributions.npy")));
        var neuron = Explain(TempDir(), "--neuron", "inception_4d/output:17", "--steps", "4");
        Assert.Equal(17, neuron.GetProperty("parameters").GetProperty("channel").GetInt32());
        Assert.True(neuron.GetProperty("f_input").GetDouble() >= 0); // a mean of ReLU outputs
        var conductance = Explain(TempDir(), "--method", "conductance", "--layer", "inception_4a/output", "--steps", "4");
        Assert.Equal("conductance", conductance.GetProperty("method").GetString());
    }

    [SharedFact]
    public void XraiWritesItsRegionsAndPictures()
    {
        var dir = TempDir();
        var json = Explain(dir, "--method", "xrai", "--steps", "4");
        Assert.True(json.GetProperty("regions").GetInt32() > 3);
        foreach (var name in new[] { "figure.png", "xrai.png", "xrai-top30.png", "xrai.npy", "regions.npy", "attributions.npy" })
            Assert.True(File.Exists(Path.Combine(dir, name)), name);
    }

    [SharedTheory]
    [InlineData("an unknown layer", "no layer named 'inception_9z/output'", "--layer", "inception_9z/output")]
    [InlineData("a channel past the layer's", "528 channels", "--neuron", "inception_4d/output:528")]
    public void AnUnknownLayerOrChannelIsAUsageErrorNamingWhatThereIs(string what, string expected, params string[] options)
    {
        var (code, _, error) = RunCli(["explain", Fireboat, "--out", TempDir(), "--steps", "2", .. options, .. ModelArguments]);
        Assert.True(code == 2, what);
        Assert.Contains(options[0], error); // the option, not the library's parameter name
        Assert.Contains(expected, error);
    }

    [SharedTheory]
    [InlineData("--method", "lime")]
    [InlineData("--method", "blur-ig", "--noise-samples", "5")]
    [InlineData("--method", "conductance")]
    [InlineData("--method", "gradient", "--layer", "inception_4d/output")]
    [InlineData("--neuron", "inception_4d/output")]
    [InlineData("--neuron", "inception_4d/output:-1")]
    [InlineData("--neuron", "inception_4d/output:1", "--layer", "inception_4d/output")]
    [InlineData("--noise-samples", "0")]
    [InlineData("--noise-sigma", "0")]
    [InlineData("--noise-sigma", "1.5")]
    [InlineData("--method", "xrai", "--auto-steps", "0.01")]
    [InlineData("--layer", "")]
    [InlineData("--method", "blur-ig", "--steps", "200000")]
    [InlineData("--method", "guided-ig", "--steps", "200000")]
    public void BadMethodOptionsAreUsageErrors(params string[] options)
    {
        var (code, output, error) = RunCli(["explain", Fireboat, "--out", TempDir(), .. options, .. ModelArguments]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("nativeig: ", error);
    }

    [SharedTheory]
    [InlineData("compare", "--steps", "0")]
    [InlineData("compare", "--steps", "99999999999")]
    [InlineData("compare", "--noise-samples", "NaN")]
    [InlineData("compare", "--noise-samples", "10001")]
    [InlineData("compare", "--noise-sigma", "NaN")]
    [InlineData("compare", "--noise-sigma", "1e999")]
    [InlineData("compare", "--clip", "0")]
    [InlineData("compare", "--batch", "0")]
    [InlineData("compare", "--output", "softmax")]
    [InlineData("compare", "--colormap", "jet")]
    [InlineData("compare", "--methods", "ig,lime")]
    [InlineData("compare", "--methods", ",")]
    [InlineData("sanity", "--steps", "0")]
    [InlineData("sanity", "--steps", "abc")]
    [InlineData("sanity", "--blocks", "99999999999")]
    [InlineData("sanity", "--blocks", "19")]
    [InlineData("sanity", "--seed", "1.5")]
    [InlineData("sanity", "--batch", "257")]
    [InlineData("explain", "--noise-samples", "99999999999")]
    [InlineData("explain", "--noise-seed", "NaN")]
    [InlineData("explain", "--neuron", "inception_4d/output:99999999999")]
    public void BadValuesForCompareAndSanityAreUsageErrorsBeforeAnyWork(string command, string option, string value)
    {
        string[] outDir = command == "sanity" ? [] : ["--out", TempDir()]; // sanity writes no files
        var (code, output, error) = RunCli([command, Fireboat, option, value, .. outDir, .. ModelArguments]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("nativeig: ", error);
    }

    [SharedFact]
    public void ManyImagesRefuseOtherMethods()
    {
        var (code, _, error) = RunCli(["explain", Fireboat, Shared("images/giant_panda.jpg"), "--method", "xrai", "--out", TempDir(), .. ModelArguments]);
        Assert.Equal(2, code);
        Assert.Contains("one image at a time", error);
    }

    [SharedFact]
    public void CompareDrawsEveryMethodSideBySide()
    {
        var dir = TempDir();
        var (code, output, error) = RunCli(["compare", Fireboat, "--out", dir, "--steps", "3", "--noise-samples", "2", "--json", .. ModelArguments]);
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        var methods = json.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("method").GetString()!).ToArray();
        Assert.Equal(["Integrated Gradients", "SmoothGrad-IG", "Blur IG", "Guided IG", "XRAI"], methods);
        Assert.Equal(2 * 3 + 1, json.GetProperty("methods")[2].GetProperty("path_images").GetInt32()); // Blur IG takes 2M steps
        Assert.Equal(2 * (3 + 1), json.GetProperty("methods")[4].GetProperty("path_images").GetInt32()); // XRAI: black and white
        var figure = json.GetProperty("figure").GetString()!;
        var (width, height) = PngSize(figure);
        Assert.True(width > 6 * 224 && height > 224, $"{width}×{height}");
    }

    [SharedFact]
    public void CompareRunsTheChosenMethodsAndReportsEachBatch()
    {
        var dir = TempDir();
        var (code, output, error) = RunCli(["compare", Fireboat, "--out", dir, "--steps", "3", "--batch", "2", "--methods", "xrai,ig", "--json", .. ModelArguments]);
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(["Integrated Gradients", "XRAI"], json.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("method").GetString()!).ToArray());
        // Not quiet: the plan with each method's cost, then a line per batch of path images (here 2 of IG's 4).
        (code, _, error) = RunCli(["compare", Fireboat, "--out", dir, "--steps", "3", "--batch", "2", "--methods", "ig,guided-ig", .. ModelArguments]);
        Assert.True(code == 0, error);
        Assert.Contains("ig 4, guided-ig at least 49", error);
        Assert.Contains("Integrated Gradients: path 2/4 images", error);
        Assert.Matches(@"Guided IG: path \d+ \(of a length not known in advance\) images", error);
    }

    [SharedFact]
    public void EveryJsonLineHasTheOneSchema()
    {
        var explain = Explain(TempDir(), "--steps", "2");
        foreach (var field in new[] { "schema_version", "relative_delta", "tool", "device", "threads" }) Assert.True(explain.TryGetProperty(field, out _), field);
        Assert.Equal(1, explain.GetProperty("schema_version").GetInt32());
        Assert.Equal("schema_version", explain.EnumerateObject().First().Name);
        var (code, output, error) = RunCli(["sanity", Fireboat, "--method", "gradient", "--blocks", "1", "--json", .. ModelArguments]);
        Assert.True(code == 0, error);
        var sanity = JsonDocument.Parse(output).RootElement;
        Assert.False(sanity.TryGetProperty("steps", out _)); // a plain gradient has no steps
        Assert.Equal(1, sanity.GetProperty("schema_version").GetInt32());
        (code, output, _) = RunCli(["classify", Fireboat, "--json", "--top", "1", .. ModelArguments]);
        Assert.Equal(0, code);
        Assert.StartsWith("{\"schema_version\":1,", output);
    }

    [SharedFact]
    public void AFileNameWithATerminalEscapeIsPrintedEscaped()
    {
        var dir = TempDir();
        var name = Path.Combine(dir, "evil\u001b[31mred.jpg");
        File.WriteAllText(name, "not an image");
        var (code, _, error) = RunCli(["classify", name, .. ModelArguments]);
        Assert.Equal(1, code);
        Assert.False(error.Contains('\u001b'), error); // ordinal: a culture-aware search ignores control characters
        Assert.Contains("evil\\x1B[31mred.jpg", error);
    }

    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [SharedFact]
    public void SanityPrintsTheCascadeAndRefusesBadBlocks()
    {
        var (code, output, error) = RunCli(["sanity", Fireboat, "--steps", "2", "--blocks", "2", "--json", .. ModelArguments]);
        Assert.True(code == 0, error);
        var cascade = JsonDocument.Parse(output).RootElement.GetProperty("cascade").EnumerateArray().ToArray();
        Assert.Equal(2, cascade.Length);
        Assert.Equal(["loss3/classifier", "inception_5b"], cascade[1].GetProperty("randomized").EnumerateArray().Select(e => e.GetString()));
        Assert.All(cascade, c => Assert.InRange(c.GetProperty("rank_correlation_abs").GetDouble(), -1, 1));
        Assert.Equal(2, RunCli(["sanity", Fireboat, "--blocks", "0", .. ModelArguments]).Code);
        Assert.Equal(2, RunCli(["sanity", Fireboat, "--method", "xrai", .. ModelArguments]).Code);
        Assert.Equal(2, RunCli(["sanity", Fireboat, "--model", "x.onnx", .. ModelArguments]).Code);
    }
}
