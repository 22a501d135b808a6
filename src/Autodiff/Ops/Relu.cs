using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>y = max(x, 0); dx = dy where y &gt; 0. Kernels: <see cref="Tensors.Relu"/>, src/Gpu/ElementwiseKernels.cs.</summary>
    public Variable Relu(Variable x, string name = "relu")
    {
        var device = DeviceOf(name, x);
        Tensor y;
        if (device is null)
        {
            y = x.Value.Clone();
            Tensors.Relu.InPlace(y.Span);
        }
        else
        {
            y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
            device.Kernels.ReluBackward(x.Value.DeviceData, x.Value.DeviceData, y.DeviceData); // x where x > 0: ReLU is its own mask applied to x
        }
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null) Tensors.Relu.Backward(y.Span, dy.Span, dx.Span, acc);
            else device.Kernels.ReluBackward(y.DeviceData, dy.DeviceData, dx.DeviceData, acc);
        }, savesOutput: true, kind: "relu");
    }
}
