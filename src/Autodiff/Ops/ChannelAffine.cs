using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y[..., c] = scale[c]·x[..., source[c]] + shift[c]: a channel permutation with a per-channel affine
    /// map (Inception's RGB [0,1] → BGR·255 − mean). dx[..., source[c]] += scale[c]·dy[..., c].
    /// Kernels: <see cref="Tensors.ChannelAffine"/>, src/Gpu/ChannelAffineKernels.cs.
    /// </summary>
    public Variable ChannelAffine(Variable x, int[] source, float[] scale, float[] shift, string name = "channel_affine")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        // On a device the three small tables share one pooled buffer: [scale | shift | source as int bits].
        var table = device is null ? null : DeviceKernels.UploadChannelAffineTable(device, source, scale, shift);
        try
        {
            if (table is null) Tensors.ChannelAffine.Forward(x.Value, y, source, scale, shift);
            else device!.Kernels.ChannelAffine(x.Value.DeviceData, y.DeviceData, table);
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
                else device!.Kernels.ChannelAffineBackward(dy.DeviceData, dx.DeviceData, table, acc);
            };
        }, kind: "channel_affine");
        if (!kept) table?.Dispose();
        return result;
    }
}
