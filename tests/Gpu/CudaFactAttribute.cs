using NativeIg.Gpu;
using Xunit;

namespace NativeIg.Tests;

/// <summary>A test that needs a real CUDA device: reported as skipped, with the reason, where there is none.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!GpuDevice.HasCuda()) Skip = "No CUDA device on this machine (GpuDevice.Present(): " + GpuDevice.Present() + ").";
    }
}

/// <summary>A test of behaviour where CUDA is absent: skipped, with the reason, on a machine that has it.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (GpuDevice.HasCuda()) Skip = "This machine has a CUDA device; the test checks the message for a missing one.";
    }

    /// <summary>The test also reads ../shared: skipped, with that reason, without it.</summary>
    public bool NeedsShared
    {
        get => false;
        set { if (value && Skip is null && TestUtil.SharedDir is null) Skip = SharedData.MissingReason; }
    }
}
