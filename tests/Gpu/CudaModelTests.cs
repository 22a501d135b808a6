using NativeIg.Ig;
using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>GoogLeNet and the fireboat's IG on real CUDA against the golden references (skipped, with the reason, without CUDA).</summary>
[Collection("model")]
public class CudaModelTests(ModelFixture fixture)
{
    [CudaFact]
    public void ReferenceProbabilitiesAndFireboatIgOnCuda()
    {
        using var cuda = NativeIg.Gpu.GpuDevice.Open("cuda");
        var model = fixture.Model.ToDevice(cuda);
        foreach (var name in new[] { "fireboat", "giant_panda", "city" })
        {
            using var probabilities = ReferenceProbabilityTests.AssertReferenceProbabilities(model, name, "on CUDA");
        }
        var ig = new IntegratedGradients(model);
        using var image = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var baseline = Baselines.Black(224, 224, 3);
        using (var r = ig.Attribute(image, baseline, 554, steps: 50, batchSize: 32))
            FireboatIntegratedGradientsTests.AssertMatchesReference(r);
        using var oneChunk = ig.Attribute(image, baseline, 554, steps: 240, batchSize: 241);
        Assert.True(oneChunk.RelativeDelta <= 0.01, $"m = 240 on CUDA: |delta| is {oneChunk.RelativeDelta:P2} of F(x) − F(baseline)");
    }
}
