using NativeIg.Gpu;
using Xunit;

namespace NativeIg.Tests;

/// <summary>One ILGPU CPU accelerator for the GPU tests: kernels compile once per device.</summary>
public sealed class IlgpuCpuFixture : IDisposable
{
    public GpuDevice Device { get; } = GpuDevice.Open("ilgpu-cpu");
    public void Dispose() => Device.Dispose();
}

[CollectionDefinition("ilgpu")]
public class IlgpuCollection : ICollectionFixture<IlgpuCpuFixture>;
