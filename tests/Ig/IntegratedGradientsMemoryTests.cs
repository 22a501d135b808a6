using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[CollectionDefinition("memory", DisableParallelization = true)]
public class MemoryCollection;

[Collection("memory")]
public class IntegratedGradientsMemoryTests
{
    [Fact]
    public void PeakMemoryIsBoundedByTheBatchNotTheSteps()
    {
        // A conv net big enough that its activations dominate: 2000 steps must peak where 50 steps do.
        var w = Tensor.FromSpan(Random(3 * 3 * 3 * 8, 1).Select(v => v * 0.3f).ToArray(), 3, 3, 3, 8);
        var fc = Tensor.FromSpan(Random(8 * 16 * 16, 2).Select(v => v * 0.01f).ToArray(), 8 * 16 * 16, 1);
        var wv = Variable.Parameter(w, "w");
        var fcv = Variable.Parameter(fc, "fc");
        var model = new ConvModel(wv, fcv);
        var ig = new IntegratedGradients(model);
        using var x = TestUtil.RandomTensor(3, 16, 16, 3);
        using var baseline = Tensor.Zeros(16, 16, 3);
        // Start from an empty pool: idle buffers other tests left (of other sizes) would otherwise be
        // taken by the shorter chunks and count at their larger capacity.
        BufferPool.Shared.Clear();
        long Peak(int steps)
        {
            BufferPool.Shared.ResetPeak();
            long before = BufferPool.Shared.LiveBytes;
            using (ig.Attribute(x, baseline, 0, steps, batchSize: 8, output: TargetOutput.Logit)) { }
            return BufferPool.Shared.PeakLiveBytes - before;
        }
        long small = Peak(50), large = Peak(2000);
        Assert.True(large <= small * 1.1, $"peak {large} bytes at 2000 steps vs {small} at 50");
    }

    /// <summary>
    /// Issue 11 item 7: the peak grew with the steps because the chunk size did (26 images at m = 50,
    /// 32 at m = 1000) and a shorter last chunk allocated buffers of its own. Full chunks and reuse of
    /// larger pooled buffers make the peak one full batch at every step count.
    /// </summary>
    [Fact]
    public void PeakMemoryIsTheSameAtEveryStepCount()
    {
        var w = Tensor.FromSpan(Random(3 * 3 * 3 * 8, 4).Select(v => v * 0.3f).ToArray(), 3, 3, 3, 8);
        var fc = Tensor.FromSpan(Random(8 * 16 * 16, 5).Select(v => v * 0.01f).ToArray(), 8 * 16 * 16, 1);
        var ig = new IntegratedGradients(new ConvModel(Variable.Parameter(w, "w"), Variable.Parameter(fc, "fc")));
        using var x = TestUtil.RandomTensor(6, 16, 16, 3);
        using var baseline = Tensor.Zeros(16, 16, 3);
        BufferPool.Shared.Clear(); // start from this test's own buffers only (see above)
        using (ig.Attribute(x, baseline, 0, 20, batchSize: 8, output: TargetOutput.Logit)) { } // warm the pool
        var peaks = new[] { 50, 240, 1000 }.Select(steps =>
        {
            BufferPool.Shared.ResetPeak();
            long before = BufferPool.Shared.LiveBytes;
            long pooledBefore = BufferPool.Shared.PooledBytes;
            using (ig.Attribute(x, baseline, 0, steps, batchSize: 8, output: TargetOutput.Logit)) { }
            return (Steps: steps, Peak: BufferPool.Shared.PeakLiveBytes - before, Growth: BufferPool.Shared.PooledBytes - pooledBefore);
        }).ToArray();
        foreach (var p in peaks)
        {
            Assert.True(Math.Abs(p.Peak - peaks[0].Peak) <= 0.05 * peaks[0].Peak, $"peak {p.Peak} bytes at {p.Steps} steps vs {peaks[0].Peak} at {peaks[0].Steps}");
            // A smaller chunk reuses the full chunks' buffers: the pool may gain a few small ones, not a chunk's worth.
            Assert.True(p.Growth <= 0.02 * peaks[0].Peak, $"the pool grew by {p.Growth} bytes at {p.Steps} steps: a chunk allocated new buffers");
        }
    }

    /// <summary>
    /// Issue 31 item 26: `compare` peaked at 1.8 GB because Blur IG's shorter last chunk allocated a second
    /// set of activations; it reuses the full chunks' buffers now, as IG's path does.
    /// </summary>
    [Fact]
    public void BlurIgsShorterChunkReusesTheFullChunksBuffers()
    {
        var w = Tensor.FromSpan(Random(3 * 3 * 3 * 8, 7).Select(v => v * 0.3f).ToArray(), 3, 3, 3, 8);
        var fc = Tensor.FromSpan(Random(8 * 16 * 16, 8).Select(v => v * 0.01f).ToArray(), 8 * 16 * 16, 1);
        var model = new ConvModel(Variable.Parameter(w, "w"), Variable.Parameter(fc, "fc"));
        using var x = TestUtil.RandomTensor(9, 16, 16, 3);
        BufferPool.Shared.Clear();
        BlurIgOptions Options(int steps) => new() { Steps = steps, BatchSize = 8, MaxSigma = 4, Output = TargetOutput.Logit };
        using (BlurIntegratedGradients.Attribute(model, x, 0, Options(15))) { } // 16 images: two full chunks warm the pool
        foreach (int steps in new[] { 20, 27, 50 }) // last chunks of other sizes
        {
            BufferPool.Shared.ResetPeak();
            long before = BufferPool.Shared.LiveBytes, pooledBefore = BufferPool.Shared.PooledBytes;
            using (BlurIntegratedGradients.Attribute(model, x, 0, Options(steps))) { }
            long peak = BufferPool.Shared.PeakLiveBytes - before, growth = BufferPool.Shared.PooledBytes - pooledBefore;
            Assert.True(growth <= 0.02 * peak, $"the pool grew by {growth} bytes at {steps} steps (peak {peak}): a chunk allocated new buffers");
        }
    }

    private sealed class ConvModel(Variable w, Variable fc) : IDifferentiableModel
    {
        public int[] ImageShape => [16, 16, 3];
        public int Classes => 1;
        public Variable Logits(Tape tape, Variable images) => tape.FullyConnected(tape.Conv2d(images, w, null, 1, 1, relu: true), fc, null);
    }
}
