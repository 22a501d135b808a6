using ILGPU;

namespace NativeIg.Gpu;

/// <summary>The kernels take the engine's <see cref="DeviceTensor"/>; this gives them the ILGPU view behind one.</summary>
internal static class DeviceTensorViews
{
    extension(DeviceTensor tensor)
    {
        /// <summary>The ILGPU elements of a tensor that lives on an ILGPU device.</summary>
        public ArrayView<float> View => GpuTensor.Of(tensor).View;
    }
}
