using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>The per-channel affine map with a channel permutation (Inception's preprocessing), forward and backward.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> _channelAffine = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _channelAffineBackward = null!;

    private void LoadChannelAffineKernels(Accelerator accelerator)
    {
        _channelAffine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ChannelAffineKernel);
        _channelAffineBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(ChannelAffineBackwardKernel);
    }

    /// <summary>y[.., c] = scale[c]·x[.., source[c]] + shift[c] (preprocessing); the small tables live in device buffers.</summary>
    /// <inheritdoc />
    public override void ChannelAffine(DeviceTensor x, DeviceTensor y, DeviceTensor table)
    {
        var (source, scale, shift) = AffineTables(table);
        ChannelAffine(GpuTensor.Of(x), GpuTensor.Of(y), source, scale, shift);
    }

    /// <inheritdoc />
    public override void ChannelAffineBackward(DeviceTensor dy, DeviceTensor dx, DeviceTensor table, bool accumulate)
    {
        var (source, scale, _) = AffineTables(table);
        ChannelAffineBackward(GpuTensor.Of(dy), GpuTensor.Of(dx), source, scale, accumulate);
    }

    /// <summary>The views of a table from <see cref="DeviceKernels.UploadChannelAffineTable"/>: [scale | shift | source as int bits].</summary>
    private static (ArrayView<int> Source, ArrayView<float> Scale, ArrayView<float> Shift) AffineTables(DeviceTensor table)
    {
        if (table.Length % 3 != 0) throw new ArgumentException($"A channel-affine table holds 3 floats per channel, not {table.Length}.");
        int c = table.Length / 3;
        var view = GpuTensor.Of(table).View;
        return (view.SubView(2 * c, c).Cast<int>(), view.SubView(0, c), view.SubView(c, c));
    }

    internal void ChannelAffine(DeviceTensor x, DeviceTensor y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift) =>
        _channelAffine(y.Length, x.View, y.View, source, scale, shift, (int)source.Length);

    private static void ChannelAffineKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift, int channels)
    {
        int c = i % channels;
        long pixel = (int)i - c;
        y[i] = scale[c] * x[pixel + source[c]] + shift[c];
    }

    /// <summary>dx[.., source[c]] (+)= scale[c]·dy[.., c], one thread per input element (source is a permutation or not: all matching c are summed).</summary>
    internal void ChannelAffineBackward(DeviceTensor dy, DeviceTensor dx, ArrayView<int> source, ArrayView<float> scale, bool accumulate) =>
        _channelAffineBackward(dx.Length, dy.View, dx.View, source, scale, (int)source.Length, accumulate ? 1 : 0);

    private static void ChannelAffineBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, ArrayView<int> source, ArrayView<float> scale, int channels, int accumulate)
    {
        int ci = i % channels;
        long pixel = (int)i - ci;
        float g = 0f;
        for (int c = 0; c < channels; c++)
            if (source[c] == ci) g += scale[c] * dy[pixel + c];
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }
}
