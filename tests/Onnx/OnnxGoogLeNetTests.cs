using NativeIg.Ig;
using NativeIg.Onnx;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// ../shared's bvlc_googlenet.onnx (opset 13, the caffemodel's weights) through the importer against the
/// caffemodel path: the same network read from another format must give the same numbers.
/// </summary>
[Collection("model")]
public class OnnxGoogLeNetTests(ModelFixture fixture)
{
    /// <summary>The file's input is Caffe's: BGR, ×255, minus the per-channel mean.</summary>
    internal static readonly OnnxPreprocessing Caffe = new() { Bgr = true, Scale = 255f, Mean = [104f, 117f, 123f], Std = [1f, 1f, 1f] };

    private static readonly Lazy<OnnxModel> s_model = new(() => OnnxModel.Load(Shared("weights/bvlc_googlenet.onnx"), Caffe));

    [SharedFact]
    public void TheGraphIsReadWithItsSoftmaxSetAside()
    {
        var model = s_model.Value;
        Assert.Equal(1000, model.Classes);
        Assert.True(model.EndsInSoftmax);
        Assert.Equal([224, 224, 3], model.ImageShape);
        var summary = model.Summary();
        Assert.Contains("Conv 57", summary);
        Assert.Contains("params    6,998,552", summary);
        Assert.Contains("1.58 G multiply-adds", summary);
    }

    [SharedTheory]
    [InlineData("fireboat")]
    [InlineData("giant_panda")]
    [InlineData("city")]
    public void ProbabilitiesMatchTheCaffemodelPathWithin1e6(string name)
    {
        using var input = Npy.Read(Shared($"reference/{name}_input.npy"));
        using var batch = input.Reshape(1, 224, 224, 3);
        using var fromOnnx = s_model.Value.PredictProbabilities(batch);
        using var fromCaffe = fixture.Model.PredictProbabilities(batch);
        AssertClose(fromCaffe.Span, fromOnnx.Span, 1e-6, 0, $"{name}: ONNX vs caffemodel probabilities");
        using var golden = Npy.Read(Shared($"reference/{name}_probs.npy"));
        AssertClose(golden.Span, fromOnnx.Span, 1e-5, 0, $"{name}: ONNX vs the golden probabilities");
    }

    [SharedFact]
    public void FireboatIntegratedGradientsMatchTheCaffemodelPathWithin1e5()
    {
        using var image = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var baseline = Tensor.Zeros(224, 224, 3);
        using var viaOnnx = new IntegratedGradients(s_model.Value).Attribute(image, baseline, 554, steps: 50);
        using var viaCaffe = new IntegratedGradients(fixture.Model).Attribute(image, baseline, 554, steps: 50);
        double num = 0, den = 0;
        for (int i = 0; i < viaCaffe.Attributions.Length; i++)
        {
            double d = viaOnnx.Attributions[i] - viaCaffe.Attributions[i];
            num += d * d;
            den += (double)viaCaffe.Attributions[i] * viaCaffe.Attributions[i];
        }
        double relativeL2 = Math.Sqrt(num / den);
        Assert.True(relativeL2 <= 1e-5, $"relative L2 between ONNX and caffemodel IG: {relativeL2:E3}");
        Assert.Equal(viaCaffe.FInput, viaOnnx.FInput, 6);
    }
}
