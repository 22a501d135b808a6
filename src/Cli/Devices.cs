using NativeIg.Tensors;

namespace NativeIg.Cli;

/// <summary>
/// The one place the tool touches the GPU backend. The NativeAOT build (PublishAot=true) leaves
/// NativeIg.Gpu out, because ILGPU compiles its kernels from IL at run time, which a native
/// executable cannot do; there, asking for a GPU device says so instead of failing obscurely.
/// </summary>
internal static class Devices
{
#if NATIVEIG_GPU
    /// <summary>Opens an ILGPU device by name; an absent one is an <see cref="InvalidOperationException"/> listing what is present.</summary>
    public static ComputeDevice Open(string name) => NativeIg.Gpu.GpuDevice.Open(name);

    /// <summary>Whether <paramref name="e"/> is a device running out of memory.</summary>
    public static bool IsOutOfMemory(Exception e) => e is NativeIg.Gpu.DeviceMemoryException;
#else
    /// <summary>Always refuses: this build has the CPU kernels only.</summary>
    public static ComputeDevice Open(string name) => throw new InvalidOperationException(
        $"No {name} device in this build: this nativeig is the NativeAOT executable, which has the CPU kernels only (ILGPU compiles " +
        "GPU kernels at run time, which a native executable cannot). Leave out --device, or use the .NET tool (dotnet tool install NativeIg.Cli) for GPUs.");

    /// <summary>Whether <paramref name="e"/> is a device running out of memory (never, without devices).</summary>
    public static bool IsOutOfMemory(Exception e) => false;
#endif
}
