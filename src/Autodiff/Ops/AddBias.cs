using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = x + bias, the bias repeated over x's leading dimensions (bias [C] on [N, H, W, C]: per channel;
    /// bias [H, W, C]: one image for every image of the batch). dx = dy; dbias = Σ dy over the repeats.
    /// Kernels: <see cref="Tensors.AddBias"/>, src/Gpu/ElementwiseKernels.cs (AddRows); reference: <see cref="AddBiasReference"/>.
    /// </summary>
    public Variable AddBias(Variable x, Variable bias, string name = "add_bias")
    {
        var device = DeviceOf(name, x, bias);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        try
        {
            if (device is null) Tensors.AddBias.Forward(x.Value, bias.Value, y);
            else
            {
                Tensors.AddBias.RequireShapes(x.Value, bias.Value, y);
                device.Kernels.AddRows(x.Value.DeviceData, bias.Value.DeviceData, y.DeviceData);
            }
        }
        catch { y.Dispose(); throw; }
        return Record(y, name, [x, bias], () => dy =>
        {
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                Tensor.ScaleInto(dx, dy, accumulate: acc);
            }
            if (bias.RequiresGrad)
            {
                var (db, acc) = GradTarget(bias);
                Tensor.ColumnSumsInto(db, dy, acc);
            }
        }, kind: "add_bias");
    }
}
