using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using NativeIg.Tensors.IO;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;
using NativeIg.Gpu;

namespace NativeIg.Bench;

/// <summary>
/// The GPU backend: convolution forward/backward-data, GoogLeNet forward and IG on the device named by
/// NATIVEIG_BENCH_DEVICE (default cuda; ilgpu-cpu works but is far too slow for the model rows).
/// Kernel compilation happens on first use: GlobalSetup times that first call and prints it, so the
/// measured rows are steady state.
/// </summary>
public class GpuBenchmarks : IFlopCount
{
    private GpuDevice? _device;
    private GpuTensor? _x, _w, _y;
    private WindowGeometry _g;
    private GoogLeNet? _model;
    private IntegratedGradients? _ig;
    private Tensor? _image, _baseline, _batch1, _batch32;

    [GlobalSetup]
    public void Setup()
    {
        var name = Environment.GetEnvironmentVariable("NATIVEIG_BENCH_DEVICE") ?? "cuda";
        _device = GpuDevice.Open(name);
        _g = WindowGeometry.ConvCaffe(32, 28, 28, 96, 3, 1, 1); // inception_3a/3x3 at batch 32
        _x = GpuTensor.FromHost(_device, Tensor.Filled(0.5f, 32, 28, 28, 96));
        _w = GpuTensor.FromHost(_device, Tensor.Filled(0.01f, 3, 3, 96, 128));
        _y = _device.Allocate(32, 28, 28, 128);
        var clock = Stopwatch.StartNew();
        _device.Kernels.ConvForward(_g, _x, _w, null, _y, relu: true);
        _device.Synchronize();
        Console.WriteLine($"// {_device.Kind} ({_device.Name}): first conv call incl. kernel compilation {clock.Elapsed.TotalMilliseconds:F0} ms");
        _model = BenchData.LoadModel().ToDevice(_device);
        _ig = new IntegratedGradients(_model);
        _image = Npy.Read(BenchData.SharedFile("reference/fireboat_input.npy"));
        _baseline = Baselines.Black(224, 224, 3);
        _batch1 = _image.Reshape(1, 224, 224, 3).Clone();
        _batch32 = Tensor.Uninitialized(32, 224, 224, 3);
        for (int i = 0; i < 32; i++) _image.Span.CopyTo(_batch32.Span.Slice(i * _image.Length, _image.Length));
        clock.Restart();
        using (_ig.Attribute(_image, _baseline, 554, IgOptions.Default with { Steps = 4, BatchSize = 32 })) { }
        Console.WriteLine($"// {_device.Kind}: first IG call (every kernel compiled) {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x?.Dispose(); _w?.Dispose(); _y?.Dispose();
        _device?.Dispose();
    }

    [Benchmark(Description = "GPU conv forward 3a/3x3 b32")]
    public void ConvForward()
    {
        _device!.Kernels.ConvForward(_g, _x!, _w!, null, _y!, relu: true);
        _device.Synchronize();
    }

    [Benchmark(Description = "GPU conv backward-data 3a/3x3 b32")]
    public void ConvBackwardData()
    {
        _device!.Kernels.ConvBackwardData(_g, _y!, _w!, _x!);
        _device.Synchronize();
    }

    [Benchmark(Description = "GPU conv backward-filter 3a/3x3 b32")]
    public void ConvBackwardFilter()
    {
        _device!.Kernels.ConvBackwardFilter(_g, _x!, _y!, _w!);
        _device.Synchronize();
    }

    [Benchmark(Description = "GPU GoogLeNet forward b1")]
    public void ForwardBatch1() { using var p = _model!.PredictProbabilities(_batch1!); }

    [Benchmark(Description = "GPU GoogLeNet forward b32")]
    public void ForwardBatch32() { using var p = _model!.PredictProbabilities(_batch32!); }

    [Benchmark(Description = "GPU IG fireboat m=50")]
    public double Ig50() { using var r = _ig!.Attribute(_image!, _baseline!, 554, IgOptions.Default with { Steps = 50, BatchSize = 32 }); return r.Sum; }

    [Benchmark(Description = "GPU IG fireboat m=240")]
    public double Ig240() { using var r = _ig!.Attribute(_image!, _baseline!, 554, IgOptions.Default with { Steps = 240, BatchSize = 64 }); return r.Sum; }

    [Benchmark(Description = "GPU IG fireboat m=240, one chunk of 241")]
    public double Ig240OneChunk() { using var r = _ig!.Attribute(_image!, _baseline!, 554, IgOptions.Default with { Steps = 240, BatchSize = 241 }); return r.Sum; }

    public double Flops(string method) => method switch
    {
        nameof(ConvForward) or nameof(ConvBackwardData) or nameof(ConvBackwardFilter) => 2.0 * 32 * 28 * 28 * 9 * 96 * 128,
        nameof(ForwardBatch1) => BenchData.ForwardFlopsPerImage,
        nameof(ForwardBatch32) => BenchData.ForwardFlopsPerImage * 32,
        nameof(Ig50) => BenchData.IgFlopsPerImage * 51,
        _ => BenchData.IgFlopsPerImage * 241,
    };
}
