using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeIg.Tensors.IO;
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

namespace NativeIg.Bench;

public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        foreach (var job in InstructionSetJobs.For(Job.Default.WithWarmupCount(2).WithIterationCount(8).WithLaunchCount(1)))
            AddJob(job);
        AddColumn(new GflopsColumn());
        AddColumn(new PercentOfPeakColumn(BenchCase.Flops, BenchCase.Threads));
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}

public class GemmBenchmarks : IFlopCount
{
    private float[] _a = [], _b = [], _c = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Big enough for both shapes: 1024·1024 and 576·3136 (B), 256·3136 (C).
        _a = new float[1024 * 1024]; _b = new float[576 * 3136]; _c = new float[1024 * 1024];
        for (int i = 0; i < _a.Length; i++) _a[i] = i % 7 * 0.1f;
        for (int i = 0; i < _b.Length; i++) _b[i] = i % 5 * 0.1f;
        ComputeThreads.Default = Threads;
    }

    [GlobalCleanup]
    public void Cleanup() => ComputeThreads.Default = Environment.ProcessorCount;

    [Benchmark(Description = "SGEMM 1024³")]
    public void Sgemm1024() => Gemm.Multiply(1024, 1024, 1024, _a, 1024, false, _b, 1024, false, _c, 1024);

    [Benchmark(Description = "SGEMM 256×3136×576")]
    public void Sgemm256x3136x576() => Gemm.Multiply(256, 3136, 576, _a, 576, false, _b, 3136, false, _c, 3136);

    public double Flops(string method) => method == nameof(Sgemm1024) ? 2.0 * 1024 * 1024 * 1024 : 2.0 * 256 * 3136 * 576;
}

public class ConvBenchmarks : IFlopCount
{
    private Tensor? _x, _w, _y;
    private WindowGeometry _g;

    [Params("conv2/3x3", "inception_3a/3x3", "inception_4a/5x5", "inception_3a/1x1")]
    public string Layer { get; set; } = "conv2/3x3";

    [Params(1, 32)]
    public int Batch { get; set; }

    private (int Size, int Kernel, int Ci, int Co) Shape => Layer switch
    {
        "conv2/3x3" => (56, 3, 64, 192),
        "inception_3a/3x3" => (28, 3, 96, 128),
        "inception_4a/5x5" => (14, 5, 16, 48),
        _ => (28, 1, 192, 64),
    };

    [GlobalSetup]
    public void Setup()
    {
        var (size, k, ci, co) = Shape;
        _g = WindowGeometry.ConvCaffe(Batch, size, size, ci, k, 1, k / 2);
        _x = Tensor.Filled(0.5f, Batch, size, size, ci);
        _w = Tensor.Filled(0.01f, k, k, ci, co);
        _y = Tensor.Uninitialized(Batch, size, size, co);
    }

    [GlobalCleanup]
    public void Cleanup() { _x?.Dispose(); _w?.Dispose(); _y?.Dispose(); }

    [Benchmark(Description = "conv forward")]
    public void Forward() => Conv2d.Forward(_g, _x!, _w!, null, _y!, relu: true);

    [Benchmark(Description = "conv backward-data")]
    public void BackwardData() => Conv2d.BackwardData(_g, _y!, _w!, _x!);

    public double Flops(string method)
    {
        var (size, k, ci, co) = Shape;
        return 2.0 * Batch * size * size * k * k * ci * co;
    }
}

/// <summary>
/// The depthwise convolution added for ONNX models (MobileNet-style 3×3 on 56×56×144, batch 32): forward,
/// backward-data and backward-filter. Memory-bound by nature (9 multiply-adds per value read).
/// </summary>
public class DepthwiseBenchmarks : IFlopCount
{
    private Tensor? _x, _w, _y, _dw;
    private readonly WindowGeometry _g = WindowGeometry.ConvCaffe(32, 56, 56, 144, 3, 1, 1);

    [GlobalSetup]
    public void Setup()
    {
        _x = Tensor.Filled(0.5f, 32, 56, 56, 144);
        _w = Tensor.Filled(0.01f, 3, 3, 144);
        _y = Tensor.Uninitialized(32, 56, 56, 144);
        _dw = Tensor.Uninitialized(3, 3, 144);
    }

    [GlobalCleanup]
    public void Cleanup() { _x?.Dispose(); _w?.Dispose(); _y?.Dispose(); _dw?.Dispose(); }

    [Benchmark(Description = "depthwise 3×3 forward")]
    public void Forward() => DepthwiseConv2d.Forward(_g, _x!, _w!, null, _y!);

    [Benchmark(Description = "depthwise 3×3 backward-data")]
    public void BackwardData() => DepthwiseConv2d.BackwardData(_g, _y!, _w!, _x!);

    [Benchmark(Description = "depthwise 3×3 backward-filter")]
    public void BackwardFilter() => DepthwiseConv2d.BackwardFilter(_g, _x!, _y!, _dw!, null);

    public double Flops(string method) => 2.0 * 32 * 56 * 56 * 144 * 9;
}

/// <summary>Shared model loading for the model and IG benchmarks.</summary>
public static class BenchData
{
    public static string SharedFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", relative), Path.Combine(dir.FullName, "..", "shared", relative) })
                if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        throw new FileNotFoundException($"{relative} not found in shared/ or ../shared/ above {AppContext.BaseDirectory}");
    }

    public static GoogLeNet LoadModel() => GoogLeNet.Load(SharedFile("weights/bvlc_googlenet.caffemodel"));

    /// <summary>Forward + input-gradient FLOPs of one 224² path image: 2·(forward MACs) for the forward, 2·(backward-data MACs) ≈ the same again.</summary>
    public const double IgFlopsPerImage = 6.3e9;

    public const double ForwardFlopsPerImage = 3.17e9;
}

public class ModelBenchmarks : IFlopCount
{
    private GoogLeNet? _model;
    private Tensor? _images;

    [Params(1, 32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = BenchData.LoadModel();
        using var one = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        _images = Tensor.Uninitialized(Batch, 224, 224, 3);
        for (int i = 0; i < Batch; i++) one.Span.CopyTo(_images.Span.Slice(i * one.Length, one.Length));
    }

    [Benchmark(Description = "GoogLeNet forward")]
    public void Forward()
    {
        using var p = _model!.PredictProbabilities(_images!);
    }

    public double Flops(string method) => BenchData.ForwardFlopsPerImage * Batch;
}

public class IgBenchmarks : IFlopCount
{
    private IntegratedGradients? _ig;
    private Tensor? _image, _baseline;

    [Params(50)]
    public int Steps { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ig = new IntegratedGradients(BenchData.LoadModel());
        _image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        _baseline = Baselines.Black(224, 224, 3);
    }

    [Benchmark(Description = "IG fireboat, batch 32")]
    public double IntegratedGradients()
    {
        using var r = _ig!.Attribute(_image!, _baseline!, 554, IgOptions.Default with { Steps = Steps, BatchSize = 32 });
        return r.Sum;
    }

    public double Flops(string method) => BenchData.IgFlopsPerImage * (Steps + 1);
}

/// <summary>
/// Each attribution method on the fireboat at its paper's settings (Guided IG at 50 steps to keep the run
/// short). GFLOP/s counts each method's path images × one image's forward and input-gradient FLOPs, so a
/// method that runs at IG's kernel rate shows IG's GFLOP/s; what it adds outside the model (blurs,
/// segmentation, the guided path's bookkeeping) shows as a lower rate. Rows run minutes apart in separate
/// processes, so a shared machine's drift moves their ratios too: each call therefore also records how much
/// of its own time went to the model's forward and backward (the methods' GradientTime), and the cleanup
/// prints that share, which no drift between rows can move.
/// </summary>
public class MethodBenchmarks : IFlopCount
{
    private GoogLeNet? _model;
    private Tensor? _image;
    private TimeSpan _total, _inModel;
    private int _calls;

    [GlobalSetup]
    public void Setup()
    {
        _model = BenchData.LoadModel();
        _image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // BenchmarkDotNet keeps the benchmark process's output in its log: this line lands beside the row's timings.
        if (_calls > 0)
            Console.WriteLine($"// time in the model's forward and backward: {100 * _inModel / _total:F1}% of {_total.TotalSeconds / _calls:F3} s per call ({_calls} calls, warm-up included)");
        _model?.Dispose();
        _image?.Dispose();
    }

    /// <summary>Runs one method call, adding its wall time and its time in the model to this process's record.</summary>
    private double Record(Func<(double Value, TimeSpan InModel)> call)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (value, inModel) = call();
        _total += clock.Elapsed;
        _inModel += inModel;
        _calls++;
        return value;
    }

    [Benchmark(Description = "IG, m = 50 (51 path images)")]
    public double IntegratedGradients() => Record(() =>
    {
        using var r = new IntegratedGradients(_model!).Attribute(_image!, null, 554, IgOptions.Default with { Steps = 50 });
        return (r.Sum, r.GradientTime);
    });

    // Guided IG's batch: its 4 gradients per move go through the model together, never 32.
    [Benchmark(Description = "IG, m = 50, batches of 4 (51)")]
    public double IntegratedGradientsBatch4() => Record(() =>
    {
        using var r = new IntegratedGradients(_model!).Attribute(_image!, null, 554, IgOptions.Default with { Steps = 50, BatchSize = 4 });
        return (r.Sum, r.GradientTime);
    });

    [Benchmark(Description = "SmoothGrad-IG, 4 copies × m = 20 (84)")]
    public double SmoothGradIg() => Record(() =>
    {
        var ig = new IntegratedGradients(_model!);
        var inModel = TimeSpan.Zero;
        using var a = NoiseTunnel.Attribute(x =>
        {
            using var r = ig.Attribute(x, null, 554, IgOptions.Default with { Steps = 20 });
            inModel += r.GradientTime;
            return r.Attributions.Clone();
        }, _image!, new NoiseOptions { Samples = 4 });
        return (a[0], inModel);
    });

    [Benchmark(Description = "Blur IG, 100 steps (101)")]
    public double BlurIg() => Record(() =>
    {
        using var r = BlurIntegratedGradients.Attribute(_model!, _image!, 554);
        return (r.Sum, r.GradientTime);
    });

    [Benchmark(Description = "Guided IG, 50 steps, 4 gradients per move")]
    public double GuidedIg() => Record(() =>
    {
        using var r = GuidedIntegratedGradients.Attribute(_model!, _image!, null, 554, new GuidedIgOptions { Steps = 50 });
        return (r.Sum, r.GradientTime);
    });

    [Benchmark(Description = "XRAI, m = 50 per baseline (102)")]
    public double Xrai() => Record(() =>
    {
        using var r = NativeIg.Ig.Xrai.Attribute(_model!, _image!, 554);
        return (r.Regions, r.Ig.GradientTime);
    });

    // XRAI's IG alone (black and white baselines, 2 × 51 path images), so XRAI's row splits into its IG and the rest.
    [Benchmark(Description = "IG from black and white, m = 50 (102)")]
    public double IntegratedGradientsBlackAndWhite() => Record(() =>
    {
        using var black = Baselines.Black(224, 224, 3);
        using var white = Baselines.White(224, 224, 3);
        using var r = new IntegratedGradients(_model!).AttributeAveraged(_image!, [black, white], 554, IgOptions.Default with { Steps = 50 });
        return (r.Sum, r.GradientTime);
    });

    [Benchmark(Description = "Layer IG, inception_4d, m = 50 (51)")]
    public double LayerIg() => Record(() =>
    {
        using var r = LayerIntegratedGradients.Attribute(_model!, _image!, "inception_4d/output", null, 554);
        return (r.Sum, r.GradientTime);
    });

    /// <summary>Guided IG's path images depend on the path (one per move); counted once by running it.</summary>
    private static readonly Lazy<int> GuidedImages = new(() =>
    {
        using var model = BenchData.LoadModel();
        using var image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        using var r = GuidedIntegratedGradients.Attribute(model, image, null, 554, new GuidedIgOptions { Steps = 50 });
        return r.PathValues.Length;
    });

    // Layer IG's backward stops at the layer, so its FLOPs are not a whole path image's: no GFLOP/s for it.
    public double Flops(string method) => method switch
    {
        nameof(IntegratedGradients) or nameof(IntegratedGradientsBatch4) => 51 * BenchData.IgFlopsPerImage,
        nameof(SmoothGradIg) => 84 * BenchData.IgFlopsPerImage,
        nameof(BlurIg) => 101 * BenchData.IgFlopsPerImage,
        nameof(GuidedIg) => GuidedImages.Value * BenchData.IgFlopsPerImage,
        nameof(Xrai) or nameof(IntegratedGradientsBlackAndWhite) => 102 * BenchData.IgFlopsPerImage,
        _ => double.NaN,
    };
}

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--ig-memory")) return MemoryReport.Run(args);
        if (args.Contains("--profile")) return MemoryReport.Profile(args);
        if (args.Contains("--xrai-alternating")) return AlternatingReport.Run(args);
        Console.WriteLine($"// {InstructionSetJobs.CpuDescription()}; kernels of this process: {Gemm.InstructionSetPath}");
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Union(DefaultConfig.Instance, new BenchConfig()));
        return 0;
    }
}

/// <summary>
/// XRAI and its own IG (black and white baselines, the same 102 path images) in alternation in one process:
/// BenchmarkDotNet runs its rows minutes apart in separate processes, and on a shared machine the drift
/// between them was as large as the difference asked about, so this compares the two under the same load.
/// </summary>
public static class AlternatingReport
{
    public static int Run(string[] args)
    {
        int rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(4);
        using var model = BenchData.LoadModel();
        using var image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        using var black = Baselines.Black(224, 224, 3);
        using var white = Baselines.White(224, 224, 3);
        var ig = new IntegratedGradients(model);
        double xraiTotal = 0, igTotal = 0;
        Console.WriteLine($"// {InstructionSetJobs.CpuDescription()}; kernels: {Gemm.InstructionSetPath}; round 0 is a warm-up and not counted");
        for (int round = 0; round <= rounds; round++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var r = ig.AttributeAveraged(image, [black, white], 554, IgOptions.Default with { Steps = 50 }))
                Console.WriteLine($"round {round}: IG from black and white {clock.Elapsed.TotalSeconds:F3} s (model {r.GradientTime.TotalSeconds:F3} s)");
            double igSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var x = Xrai.Attribute(model, image, 554))
                Console.WriteLine($"round {round}: XRAI                   {clock.Elapsed.TotalSeconds:F3} s (model {x.Ig.GradientTime.TotalSeconds:F3} s)");
            if (round == 0) continue;
            igTotal += igSeconds;
            xraiTotal += clock.Elapsed.TotalSeconds;
        }
        Console.WriteLine($"XRAI / its IG over {rounds} rounds: {xraiTotal / igTotal:F3} (GFLOP/s per path image: {igTotal / xraiTotal:F3} of IG's)");
        return 0;
    }
}

/// <summary>Peak memory of one IG run in a fresh process (BenchmarkDotNet measures allocations, not peaks).</summary>
public static class MemoryReport
{
    public static int Run(string[] args)
    {
        int steps = args.SkipWhile(a => a != "--steps").Skip(1).Select(int.Parse).FirstOrDefault(50);
        var ig = new IntegratedGradients(BenchData.LoadModel());
        using var image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        using var baseline = Baselines.Black(224, 224, 3);
        BufferPool.Shared.ResetPeak();
        using var r = ig.Attribute(image, baseline, 554, IgOptions.Default with { Steps = steps, BatchSize = 32 });
        Console.WriteLine($"IG fireboat m={steps} batch 32: {r.Elapsed.TotalSeconds:F2} s (first run in this process, includes first-touch of its memory)");
        Console.WriteLine($"  peak tensor memory (BufferPool)   {BufferPool.Shared.PeakLiveBytes / 1048576.0:F0} MiB");
        Console.WriteLine($"  peak resident set (VmHWM)         {PeakResidentMiB():F0} MiB");
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine($"  GC heap now / committed           {gc.HeapSizeBytes / 1048576.0:F0} / {gc.TotalCommittedBytes / 1048576.0:F0} MiB (pooled tensors {BufferPool.Shared.PooledBytes / 1048576.0:F0} MiB, byte masks {ScratchPool.AllocatedBytes / 1048576.0:F0} MiB, GCs gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)})");
        return 0;
    }

    /// <summary>
    /// Per-op forward/backward times for one 26-image chunk (the size IG uses at m = 50, batch 32), on
    /// the CPU or, with NATIVEIG_BENCH_DEVICE set, on that device (synchronised after every op).
    /// </summary>
    public static int Profile(string[] args)
    {
        // --batch N (default 26, one IG chunk at m = 50) and --forward-only (inference, as classify runs it).
        int images = args.SkipWhile(a => a != "--batch").Skip(1).Select(int.Parse).FirstOrDefault(26);
        bool forwardOnly = args.Contains("--forward-only");
        var deviceName = Environment.GetEnvironmentVariable("NATIVEIG_BENCH_DEVICE");
        using var device = deviceName is null ? null : NativeIg.Gpu.GpuDevice.Open(deviceName);
        var model = device is null ? BenchData.LoadModel() : BenchData.LoadModel().ToDevice(device);
        using var hostBatch = Tensor.Filled(0.5f, images, 224, 224, 3);
        using var batch = hostBatch.To(device);
        Console.WriteLine($"// profile on {(device is null ? "cpu" : $"{device.Kind} ({device.Name})")}");
        TapeProfile? profile = null;
        for (int run = 0; run < (forwardOnly ? 20 : 3); run++)
        {
            profile = new TapeProfile();
            using var tape = forwardOnly ? Tape.ForInference() : new Tape();
            tape.Profile = profile;
            var x = tape.Input(batch);
            var selected = tape.SelectColumn(tape.Softmax(model.Logits(tape, x)), 554);
            if (forwardOnly) continue;
            using var seed = Tensor.Filled(1f, images);
            tape.Backward(selected, seed);
            x.Grad!.Dispose();
        }
        Console.WriteLine(profile);
        return 0;
    }

    private static double PeakResidentMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:")) return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }
}
