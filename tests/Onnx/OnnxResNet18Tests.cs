using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NativeIg.Ig;
using NativeIg.Onnx;
using Xunit;
using static NativeIg.Tests.TestUtil;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Tests;

/// <summary>
/// ML.NET's ResNet-18 featurizer (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18, MIT; a CNTK export at
/// opset 8: 22 Conv, 22 BatchNormalization folded into them, 9 residual Add, asymmetric pads) through the
/// importer, against ONNX Runtime on the same file. Its preprocessing model (Split/Concat/Sub of a mean
/// image) is expressed as <see cref="OnnxPreprocessing"/>: BGR, ×255, minus the mean image it stores.
/// </summary>
public class OnnxResNet18Tests
{
    internal static string PackageDir => typeof(OnnxResNet18Tests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ResNet18Package").Value ?? throw new InvalidOperationException("The ResNet18 package path was not recorded at build time.");

    internal static string ModelPath => Path.Combine(PackageDir, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>ResNetPreprocess.onnx's mean image, read with our own reader.</summary>
    internal static OnnxPreprocessing Preprocessing { get; } = new()
    {
        Bgr = true, Scale = 255f, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f],
        MeanImage = OnnxReader.ReadFile(Path.Combine(PackageDir, "tools", "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx"))
            .Graph.Initializers["MeanImage"].Floats,
    };

    private static readonly Lazy<OnnxModel> s_model = new(() => OnnxModel.Load(ModelPath, Preprocessing));

    [Fact]
    public void TheFeaturizerIsReadAndItsBatchNormsFolded()
    {
        var model = s_model.Value;
        Assert.Equal(512, model.Classes);
        Assert.False(model.EndsInSoftmax);
        Assert.Contains(model.Notes, n => n.Contains("22 BatchNormalization node(s) folded"));
        Assert.Contains("BatchNormalization 22", model.Summary());
    }

    [SharedFact]
    public void FeaturesMatchOnnxRuntimeOnTenImagesWithin1e4()
    {
        var images = Directory.GetFiles(Shared("images/ig-paper"), "*.jpg").Order(StringComparer.Ordinal).Take(10).ToList();
        Assert.Equal(10, images.Count);
        using var options = new SessionOptions { IntraOpNumThreads = 2, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        using var session = new InferenceSession(ModelPath, options);
        string inputName = session.InputMetadata.Keys.Single();
        var mean = Preprocessing.MeanImage!;
        foreach (var path in images)
        {
            using var image = ImageLoader.LoadForModel(path);
            using var batch = image.Reshape(1, 224, 224, 3);
            using var ours = s_model.Value.PredictOutputs(batch);
            // ONNX Runtime gets what ResNetPreprocess.onnx computes: NCHW, BGR·255 − the mean image.
            var input = new DenseTensor<float>([1, 3, 224, 224]);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 224; y++)
                    for (int x = 0; x < 224; x++)
                        input[0, c, y, x] = 255f * image[(y * 224 + x) * 3 + (2 - c)] - mean[(c * 224 + y) * 224 + x];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, input)]);
            var expected = results.Single().AsEnumerable<float>().ToArray();
            Assert.Equal(512, expected.Length);
            double num = 0, den = 0;
            for (int i = 0; i < 512; i++)
            {
                double d = ours[i] - expected[i];
                num += d * d;
                den += (double)expected[i] * expected[i];
            }
            double relativeL2 = Math.Sqrt(num / den);
            Assert.True(relativeL2 <= 1e-4, $"{Path.GetFileName(path)}: relative L2 vs ONNX Runtime {relativeL2:E3}");
        }
    }

    /// <summary>
    /// Gauss–Legendre at m = 240 closes to 0.24% on the largest feature (measured); the trapezoid, the
    /// tutorial's rule, leaves 1.5% there: a ReLU network's path integrand has kinks, and the higher-order
    /// rule places its nodes better (`--rule gauss-legendre`).
    /// </summary>
    [SharedFact]
    public void IntegratedGradientsOfTheLargestFeatureCloseWithin1PercentAtM240()
    {
        using var image = ImageLoader.LoadForModel(Shared("images/fireboat.jpg"));
        using var baseline = Tensor.Zeros(224, 224, 3);
        using var batch = image.Reshape(1, 224, 224, 3);
        using var features = s_model.Value.PredictOutputs(batch);
        int target = NativeIg.Tensors.Ranking.TopK(features.Span, 1)[0].Index;
        using var result = new IntegratedGradients(s_model.Value).Attribute(image, baseline, target, steps: 240, rule: IntegrationRule.GaussLegendre, output: TargetOutput.Logit);
        Assert.True(result.RelativeDelta <= 0.01, $"feature {target}: |delta| is {result.RelativeDelta:P2} of F(x) − F(baseline) ({result.FInput:F4} − {result.FBaseline:F4})");
        Assert.Equal(features[target], result.FInput, 3);
    }
}
