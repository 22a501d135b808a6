using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Softmax over the last axis of [N, classes]; dx = y ⊙ (dy − Σ dy·y). Kernels: <see cref="Tensors.Softmax"/>,
    /// src/Gpu/SoftmaxKernels.cs; reference: <see cref="SoftmaxReference"/>.
    /// </summary>
    public Variable Softmax(Variable x, string name = "softmax") => SoftmaxOp(x, log: false, name);

    /// <summary>Log-softmax over the last axis; dx = dy − softmax·Σdy.</summary>
    public Variable LogSoftmax(Variable x, string name = "log_softmax") => SoftmaxOp(x, log: true, name);

    private Variable SoftmaxOp(Variable x, bool log, string name)
    {
        var device = DeviceOf(name, x);
        int classes = x.Value.Dim(x.Value.Rank - 1);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        if (device is null && log) Tensors.Softmax.LogForward(x.Value.Span, y.Span, classes);
        else if (device is null) Tensors.Softmax.Forward(x.Value.Span, y.Span, classes);
        else if (log) device.Kernels.LogSoftmax(x.Value.DeviceData, y.DeviceData, classes);
        else device.Kernels.Softmax(x.Value.DeviceData, y.DeviceData, classes);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null && log) Tensors.Softmax.LogBackward(y.Span, dy.Span, dx.Span, classes, acc);
            else if (device is null) Tensors.Softmax.Backward(y.Span, dy.Span, dx.Span, classes, acc);
            else if (log) device.Kernels.LogSoftmaxBackward(y.DeviceData, dy.DeviceData, dx.DeviceData, classes, acc);
            else device.Kernels.SoftmaxBackward(y.DeviceData, dy.DeviceData, dx.DeviceData, classes, acc);
        }, savesOutput: true, kind: log ? "log_softmax" : "softmax");
    }
}
