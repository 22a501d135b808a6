using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// The whole GoogLeNet through the GPU backend on ILGPU's CPU accelerator: every op dispatch, every real
/// layer shape (conv1's stride, LRN, ceil-rounded pools, concat, FC) against the golden probabilities.
/// One forward at batch 1 takes a few minutes there, so it is the only full-model GPU test without CUDA.
/// </summary>
[Collection("model")]
public class IlgpuCpuModelTests(ModelFixture fixture)
{
    [SharedFact]
    public void FireboatProbabilitiesThroughTheGpuBackend()
    {
        using var device = NativeIg.Gpu.GpuDevice.Open("ilgpu-cpu");
        var model = fixture.Model.ToDevice(device);
        using var probabilities = ReferenceProbabilityTests.AssertReferenceProbabilities(model, "fireboat", "through the GPU backend on ilgpu-cpu");
    }
}
