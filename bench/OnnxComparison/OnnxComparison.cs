using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NativeIg.Tensors.IO;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

namespace NativeIg.OnnxComparison;

/// <summary>
/// GoogLeNet forward, NativeIg vs ONNX Runtime (CPU) on the same network and weights
/// (../shared/weights/bvlc_googlenet.onnx), in one BenchmarkDotNet run so the ratios compare like with like.
/// Both get the same thread count: ORT with IntraOpNumThreads = <see cref="Threads"/>, one inter-op
/// thread and sequential execution; NativeIg with ComputeThreads.Default = <see cref="Threads"/>.
/// ORT gets its input already in Caffe's layout (NCHW, BGR·255 − mean); ours converts inside the model.
/// ORT picks its own kernels from the CPU (the .NET switches that select our path do not reach it).
/// </summary>
public class ForwardComparison : NativeIg.Bench.IFlopCount
{
    public sealed class Config : ManualConfig
    {
        public Config()
        {
            foreach (var job in NativeIg.Bench.InstructionSetJobs.For(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1)))
                AddJob(job);
            AddColumn(new NativeIg.Bench.GflopsColumn());
            AddColumn(new NativeIg.Bench.PercentOfPeakColumn(NativeIg.Bench.BenchCase.Flops, NativeIg.Bench.BenchCase.Threads));
        }
    }

    /// <summary>Threads on both sides (default: every core).</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    public double Flops(string method) => NativeIgFlopsPerImage * Batch;

    /// <summary>One GoogLeNet forward: 2 FLOPs per multiply-add (the same count bench/ uses).</summary>
    private const double NativeIgFlopsPerImage = 3.17e9;

    private GoogLeNet? _model;
    private NativeIg.Tensors.Tensor? _images;
    private InferenceSession? _session;
    private DenseTensor<float>? _caffeInput;
    private float[] _check = [];

    [Params(1, 32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ComputeThreads.Default = Threads;
        _model = GoogLeNet.Load(SharedFile("weights/bvlc_googlenet.caffemodel"));
        using var one = Npy.Read(SharedFile("reference/fireboat_input.npy"));
        _images = NativeIg.Tensors.Tensor.Uninitialized(Batch, 224, 224, 3);
        for (int i = 0; i < Batch; i++) one.Span.CopyTo(_images.Span.Slice(i * one.Length, one.Length));
        _session = new InferenceSession(SharedFile("weights/bvlc_googlenet.onnx"), new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        });
        _caffeInput = new DenseTensor<float>([Batch, 3, 224, 224]);
        float[] mean = [104f, 117f, 123f];
        var s = one.Span;
        for (int n = 0; n < Batch; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 224; y++)
                    for (int x = 0; x < 224; x++)
                        _caffeInput[n, c, y, x] = s[(y * 224 + x) * 3 + (2 - c)] * 255f - mean[c];
        // Both engines must agree before their speed means anything.
        using var ours = _model.PredictProbabilities(_images);
        _check = Ort();
        double worst = 0;
        for (int i = 0; i < 1000; i++) worst = Math.Max(worst, Math.Abs(ours[i] - _check[i]));
        if (worst > 1e-4) throw new InvalidOperationException($"NativeIg and ONNX Runtime disagree by {worst} on the fireboat");
    }

    [GlobalCleanup]
    public void Cleanup() { _session?.Dispose(); _images?.Dispose(); }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public float[] OnnxRuntime() => Ort();

    [Benchmark(Description = "NativeIg")]
    public float NativeIgForward()
    {
        using var p = _model!.PredictProbabilities(_images!);
        return p[0];
    }

    private float[] Ort()
    {
        using var results = _session!.Run([NamedOnnxValue.CreateFromTensor("data", _caffeInput!)]);
        return results.First().AsEnumerable<float>().Take(1000).ToArray();
    }

    internal static string SharedFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", relative), Path.Combine(dir.FullName, "..", "shared", relative) })
                if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        throw new FileNotFoundException($"{relative} not found in shared/ or ../shared/ above {AppContext.BaseDirectory}");
    }
}

public static class Program
{
    public static void Main(string[] args)
    {
        Console.WriteLine($"// {NativeIg.Bench.InstructionSetJobs.CpuDescription()}; kernels of this process: {Gemm.InstructionSetPath}; {Environment.ProcessorCount} threads on both sides");
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Union(DefaultConfig.Instance, new ForwardComparison.Config()));
    }
}
