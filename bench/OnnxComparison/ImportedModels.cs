using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Onnx;
using NativeIg.Tensors;
using NativeIg.Tensors.IO;

namespace NativeIg.OnnxComparison;

/// <summary>
/// Models through the ONNX importer, in one run: GoogLeNet from its caffemodel and from its .onnx (the
/// same network: the importer must cost nothing), and ML.NET's ResNet-18 featurizer, with ONNX Runtime
/// on the same .onnx files and the same threads (IntraOpNumThreads = ComputeThreads.Default, sequential).
/// Forward at batch 1 and 32, and IG at m = 50 (fireboat; ResNet-18: the largest feature's logit).
/// </summary>
[Config(typeof(ForwardComparison.Config))]
public class ImportedModels : NativeIg.Bench.IFlopCount
{
    [Params("GoogLeNet .caffemodel", "GoogLeNet .onnx", "ResNet-18 .onnx")]
    public string Model { get; set; } = "";

    [Params(1, 32)]
    public int Batch { get; set; }

    private IDifferentiableModel? _model;
    private Func<NativeIg.Tensors.Tensor, NativeIg.Tensors.Tensor>? _forward;
    private NativeIg.Tensors.Tensor? _images, _image, _baseline;
    private InferenceSession? _session;
    private DenseTensor<float>? _ortInput;
    private int _target;

    public static string ResNet18Dir => Path.Combine(typeof(ImportedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ResNet18Package").Value!, "tools", "DnnImageModels");

    [GlobalSetup]
    public void Setup()
    {
        int threads = Environment.ProcessorCount;
        ComputeThreads.Default = threads;
        var caffe = new OnnxPreprocessing { Bgr = true, Scale = 255f, Mean = [104f, 117f, 123f], Std = [1f, 1f, 1f] };
        var resnet = new OnnxPreprocessing
        {
            Bgr = true, Scale = 255f, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f],
            MeanImage = OnnxPreprocessing.ReadMeanImage(Path.Combine(ResNet18Dir, "ResNetPrepOnnx", "ResNetPreprocess.onnx")),
        };
        string? onnxPath = null;
        switch (Model)
        {
            case "GoogLeNet .caffemodel":
                var g = GoogLeNet.Load(ForwardComparison.SharedFile("weights/bvlc_googlenet.caffemodel"));
                (_model, _forward, _target) = (g, x => g.PredictProbabilities(x), 554);
                break;
            case "GoogLeNet .onnx":
                onnxPath = ForwardComparison.SharedFile("weights/bvlc_googlenet.onnx");
                var o = OnnxModel.Load(onnxPath, caffe);
                (_model, _forward, _target) = (o, x => o.PredictProbabilities(x), 554);
                break;
            default:
                onnxPath = Path.Combine(ResNet18Dir, "ResNet18Onnx", "ResNet18.onnx");
                var r = OnnxModel.Load(onnxPath, resnet);
                (_model, _forward, _target) = (r, x => r.PredictOutputs(x), 222);
                break;
        }
        _image = Npy.Read(ForwardComparison.SharedFile("reference/fireboat_input.npy"));
        _baseline = Baselines.Black(224, 224, 3);
        _images = NativeIg.Tensors.Tensor.Uninitialized(Batch, 224, 224, 3);
        for (int i = 0; i < Batch; i++) _image.Span.CopyTo(_images.Span.Slice(i * _image.Length, _image.Length));
        if (onnxPath is not null)
        {
            _session = new InferenceSession(onnxPath, new SessionOptions
            {
                IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            });
            _ortInput = new DenseTensor<float>([Batch, 3, 224, 224]);
            var rng = new Random(1);
            for (int i = 0; i < _ortInput.Length; i++) _ortInput.SetValue(i, rng.NextSingle() * 100f);
        }
    }

    [Benchmark(Description = "NativeIg forward")]
    public void Forward()
    {
        using var y = _forward!(_images!);
    }

    [Benchmark(Description = "ONNX Runtime forward")]
    public float OrtForward()
    {
        // The caffemodel has no ONNX Runtime twin; the featurizer's file declares batch 1, which ONNX Runtime enforces.
        if (_session is null || Batch > 1 && Model.StartsWith("ResNet", StringComparison.Ordinal)) return 0;
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_session.InputMetadata.Keys.Single(), _ortInput!)]);
        return results.First().AsEnumerable<float>().First();
    }

    [Benchmark(Description = "NativeIg IG m = 50, batch 32")]
    public double IntegratedGradients()
    {
        if (Batch != 1) return 0; // one IG row per model (its batch is its own, 32)
        using var r = new IntegratedGradients(_model!).Attribute(_image!, _baseline!, _target, IgOptions.Default with
        {
            Steps = 50, BatchSize = 32, Output = Model.StartsWith("ResNet", StringComparison.Ordinal) ? TargetOutput.Logit : TargetOutput.Probability,
        });
        return r.Sum;
    }

    /// <summary>2 FLOPs per multiply-add of one forward (GoogLeNet 1.58 G, ResNet-18 2.04 G, from `nativeig model`); IG ≈ 2 forwards per path image.</summary>
    public double Flops(string method) => method.Contains("Integrated", StringComparison.Ordinal) || method.Contains("IG", StringComparison.Ordinal) ? 2 * ForwardFlops(Model) * 51 : ForwardFlops(Model) * Batch;

    private static double ForwardFlops(string model) => model.StartsWith("ResNet", StringComparison.Ordinal) ? 2 * ResNet18MultiplyAdds : 3.17e9;

    private const double ResNet18MultiplyAdds = 2.04e9;
}

/// <summary>
/// The importer's cost on one network: GoogLeNet from its caffemodel and from its .onnx, forward and
/// IG, in one run (issue 13 asks for a ratio ≤ 1.05). Run alone, so the rows are measured close together.
/// </summary>
[Config(typeof(ForwardComparison.Config))]
public class GoogLeNetFormats : NativeIg.Bench.IFlopCount
{
    [Params("caffemodel", "onnx")]
    public string Format { get; set; } = "";

    [Params(1, 32)]
    public int Batch { get; set; }

    private IDifferentiableModel? _model;
    private Func<NativeIg.Tensors.Tensor, NativeIg.Tensors.Tensor>? _forward;
    private NativeIg.Tensors.Tensor? _images, _image, _baseline;

    [GlobalSetup]
    public void Setup()
    {
        ComputeThreads.Default = Environment.ProcessorCount;
        if (Format == "caffemodel")
        {
            var g = GoogLeNet.Load(ForwardComparison.SharedFile("weights/bvlc_googlenet.caffemodel"));
            (_model, _forward) = (g, x => g.PredictProbabilities(x));
        }
        else
        {
            var o = OnnxModel.Load(ForwardComparison.SharedFile("weights/bvlc_googlenet.onnx"),
                new OnnxPreprocessing { Bgr = true, Scale = 255f, Mean = [104f, 117f, 123f], Std = [1f, 1f, 1f] });
            (_model, _forward) = (o, x => o.PredictProbabilities(x));
        }
        _image = Npy.Read(ForwardComparison.SharedFile("reference/fireboat_input.npy"));
        _baseline = Baselines.Black(224, 224, 3);
        _images = NativeIg.Tensors.Tensor.Uninitialized(Batch, 224, 224, 3);
        for (int i = 0; i < Batch; i++) _image.Span.CopyTo(_images.Span.Slice(i * _image.Length, _image.Length));
    }

    [Benchmark(Description = "GoogLeNet forward")]
    public void Forward()
    {
        using var y = _forward!(_images!);
    }

    [Benchmark(Description = "IG fireboat m = 50, batch 32")]
    public double IntegratedGradients()
    {
        if (Batch != 1) return 0; // one IG row per format
        using var r = new IntegratedGradients(_model!).Attribute(_image!, _baseline!, 554, IgOptions.Default with { Steps = 50, BatchSize = 32 });
        return r.Sum;
    }

    public double Flops(string method) => method.Contains("Integrated", StringComparison.Ordinal) ? 6.3e9 * 51 : 3.17e9 * Batch;
}
