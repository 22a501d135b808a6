using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>
/// The tensor core's ops as ILGPU kernels, forward and backward, in the CPU kernels' layouts (NHWC
/// activations, HWIO filters). GEMM and convolution are tiled through shared memory; convolution is
/// an implicit GEMM (im2col values are computed as tiles are loaded, never materialised). Every kernel
/// is compiled once per device, on first use.
/// </summary>
public sealed partial class GpuKernels : DeviceKernels
{
    internal GpuKernels(Accelerator accelerator)
    {
        LoadGemmKernels(accelerator);
        LoadConv2dKernels(accelerator);
        LoadDepthwiseConv2dKernels(accelerator);
        LoadPool2dKernels(accelerator);
        LoadLrnKernels(accelerator);
        LoadSoftmaxKernels(accelerator);
        LoadChannelConcatKernels(accelerator);
        LoadChannelAffineKernels(accelerator);
        LoadElementwiseKernels(accelerator);
        LoadIgPathKernels(accelerator);
    }

    private static void RequireShape(DeviceTensor t, int[] expected, string what)
    {
        if (!t.Shape.SequenceEqual(expected))
            throw new ArgumentException($"{what}: shape {t.ShapeString} does not match the expected {Tensor.Describe(expected)}.");
    }
}
