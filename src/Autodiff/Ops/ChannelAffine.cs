using NativeIg.Tensors;
using ILGPU;
using ILGPU.Runtime;
using NativeIg.Tensors.Gpu;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y[..., c] = scale[c]·x[..., source[c]] + shift[c]: a channel permutation with a per-channel affine
    /// map (Inception's RGB [0,1] → BGR·255 − mean). dx[..., source[c]] += scale[c]·dy[..., c].
    /// Kernels: <see cref="Tensors.ChannelAffine"/>, Gpu/ChannelAffineKernels.cs.
    /// </summary>
    public Variable ChannelAffine(Variable x, int[] source, float[] scale, float[] shift, string name = "channel_affine")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        // On a device the three small tables share one pooled buffer: [scale | shift | source as int bits].
        var table = device is null ? null : DeviceAffineTable(device, source, scale, shift);
        try
        {
            if (table is null) Tensors.ChannelAffine.Forward(x.Value, y, source, scale, shift);
            else device!.Kernels.ChannelAffine(x.Value.Gpu, y.Gpu, SourceView(table, source.Length), table.View.SubView(0, source.Length), table.View.SubView(source.Length, source.Length));
        }
        catch { y.Dispose(); table?.Dispose(); throw; }
        bool kept = false;
        var result = Record(y, name, [x], () =>
        {
            if (table is not null) { KeepForBackward(table); kept = true; }
            return dy =>
            {
                var (dx, acc) = GradTarget(x);
                if (table is null) Tensors.ChannelAffine.Backward(dy, dx, source, scale, acc);
                else device!.Kernels.ChannelAffineBackward(dy.Gpu, dx.Gpu, SourceView(table, source.Length), table.View.SubView(0, source.Length), acc);
            };
        }, kind: "channel_affine");
        if (!kept) table?.Dispose();
        return result;
    }

    private static GpuTensor DeviceAffineTable(GpuDevice device, int[] source, float[] scale, float[] shift)
    {
        int c = source.Length;
        if (scale.Length != c || shift.Length != c)
            throw new ArgumentException($"ChannelAffine: {c} sources, {scale.Length} scales and {shift.Length} shifts; one of each per channel.");
        var packed = new float[3 * c];
        scale.CopyTo(packed, 0);
        shift.CopyTo(packed, c);
        for (int i = 0; i < c; i++) packed[2 * c + i] = BitConverter.Int32BitsToSingle(source[i]);
        var table = device.Allocate(3 * c);
        table.View.CopyFromCPU(packed);
        return table;
    }

    private static ArrayView<int> SourceView(GpuTensor table, int channels) => table.View.SubView(2 * channels, channels).Cast<int>();
}
