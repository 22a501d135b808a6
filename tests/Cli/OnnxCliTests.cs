using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>The command line with --model: any ONNX CNN for classify and explain, and 'nativeig model'.</summary>
public class OnnxCliTests
{
    private static string[] CaffeInput => ["--bgr", "--scale", "255", "--mean", "104,117,123", "--std", "1,1,1"];

    [SharedFact]
    public void ClassifyWithTheOnnxGoogLeNetNamesTheFireboat()
    {
        var (code, stdout, stderr) = RunCli(["classify", Shared("images/fireboat.jpg"), "--model", Shared("weights/bvlc_googlenet.onnx"), .. CaffeInput,
            "--labels", Shared("labels/synset_words.txt"), "--top", "2", "--json"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("\"label\":\"fireboat\"", stdout);
    }

    [SharedFact]
    public void ModelPrintsTheGraphSummary()
    {
        var (code, stdout, stderr) = RunCli(["model", Shared("weights/bvlc_googlenet.onnx"), .. CaffeInput]);
        Assert.True(code == 0, stderr);
        Assert.Contains("1000 classes", stdout);
        Assert.Contains("BGR, ×255, mean [104, 117, 123]", stdout);
        Assert.Contains("Conv 57", stdout);
    }

    [SharedFact]
    public void ExplainAResNet18FeatureWritesTheFigures()
    {
        var r = Path.Combine(OnnxResNet18Tests.PackageDir, "tools", "DnnImageModels");
        var output = TempDir();
        var (code, stdout, stderr) = RunCli("explain", Shared("images/fireboat.jpg"), "--model", Path.Combine(r, "ResNet18Onnx", "ResNet18.onnx"),
            "--bgr", "--scale", "255", "--mean", "0,0,0", "--std", "1,1,1", "--mean-image", Path.Combine(r, "ResNetPrepOnnx", "ResNetPreprocess.onnx"),
            "--output", "logit", "-m", "8", "-o", output, "-q", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("\"target\":222", stdout); // the largest of the 512 features
        Assert.Contains("\"label\":\"output 222\"", stdout); // a featurizer's outputs are values, not classes
        Assert.Contains("\"output\":\"logit\"", stdout);
        foreach (var file in new[] { "figure.png", "mask.png", "overlay.png", "attributions.npy" }) Assert.True(File.Exists(Path.Combine(output, file)), file);
    }

    [SharedFact]
    public void AFeaturizersOutputsAreShownAsValuesAndNeverAsProbabilities()
    {
        var r = Path.Combine(OnnxResNet18Tests.PackageDir, "tools", "DnnImageModels");
        string[] model = ["--model", Path.Combine(r, "ResNet18Onnx", "ResNet18.onnx"), "--bgr", "--scale", "255", "--mean", "0,0,0", "--std", "1,1,1",
            "--mean-image", Path.Combine(r, "ResNetPrepOnnx", "ResNetPreprocess.onnx")];
        var (code, stdout, stderr) = RunCli(["classify", Shared("images/fireboat.jpg"), "--top", "2", .. model]);
        Assert.True(code == 0, stderr);
        Assert.Contains("output 222:", stdout);
        Assert.DoesNotContain("%", stdout);
        // A softmax over features is no probability: asking for it is a usage error that says why, before any work.
        (code, _, stderr) = RunCli(["explain", Shared("images/fireboat.jpg"), "--output", "probability", "-m", "4", "-o", TempDir(), .. model]);
        Assert.Equal(2, code);
        Assert.Contains("no class labels", stderr);
    }

    [SharedFact]
    public void AMissingOrBrokenMeanImageAndAnUnknownOutputAreFileErrors()
    {
        var model = Shared("weights/bvlc_googlenet.onnx");
        var (code, _, stderr) = RunCli(["model", model, .. CaffeInput, "--mean-image", Path.Combine(TempDir(), "missing.npy")]);
        Assert.Equal(1, code);
        Assert.Contains("Mean image not found", stderr);
        var nan = Path.Combine(TempDir(), "mean.npy");
        var values = new float[3 * 224 * 224];
        values[5] = float.NaN;
        Npy.Write(nan, values, [3, 224, 224]);
        (code, _, stderr) = RunCli(["model", model, .. CaffeInput, "--mean-image", nan]);
        Assert.Equal(1, code);
        Assert.Contains("not a finite number", stderr);
        (code, _, stderr) = RunCli(["model", model, .. CaffeInput, "--output-name", "nope"]);
        Assert.Equal(1, code);
        Assert.Contains("there is no output 'nope'", stderr);
        Assert.Contains("prob", stderr);
    }

    [Fact]
    public void OnnxOptionsWithoutAModelAndBadValuesAreUsageErrors()
    {
        Assert.Equal(2, RunCli("classify", "x.jpg", "--bgr").Code);
        Assert.Equal(2, RunCli("classify", "x.jpg", "--model", "m.onnx", "--mean", "1,2").Code);
        Assert.Equal(2, RunCli("classify", "x.jpg", "--model", "m.onnx", "--std", "1,0,1").Code);
        Assert.Equal(2, RunCli("classify", "x.jpg", "--model", "m.onnx", "--input-size", "224,300").Code);
        Assert.Equal(2, RunCli("classify", "x.jpg", "--model", "m.onnx", "--scale", "NaN").Code);
        Assert.Equal(2, RunCli("classify", "x.jpg", "--model", "m.onnx", "--input-size", "99999999999").Code);
        var (code, _, stderr) = RunCli("classify", "x.jpg", "--model", Path.Combine(TempDir(), "missing.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("Model file not found", stderr);
    }
}
