using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = f(x) element-wise for LeakyReLU, sigmoid, tanh, clip, hard sigmoid and hard swish; dx = f′(x)·dy
    /// (read from x and y, both kept). Kernels: <see cref="Tensors.Activation"/>, src/Gpu/ElementwiseKernels.cs;
    /// reference: <see cref="ActivationReference"/>.
    /// </summary>
    public Variable Activation(Variable x, ActivationFunction f, string? name = null)
    {
        name ??= f.Kind.ToString().ToLowerInvariant();
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        if (device is null) Tensors.Activation.Forward(f, x.Value.Span, y.Span);
        else device.Kernels.Activation(f, x.Value.DeviceData, y.DeviceData);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null) Tensors.Activation.Backward(f, x.Value.Span, y.Span, dy.Span, dx.Span, acc);
            else device.Kernels.ActivationBackward(f, x.Value.DeviceData, y.DeviceData, dy.DeviceData, dx.DeviceData, acc);
        }, saves: [x], savesOutput: true, kind: "activation");
    }
}
