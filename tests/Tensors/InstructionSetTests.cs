using System.Numerics;
using System.Runtime.Intrinsics;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// The instruction-set paths. CI runs the kernel, gradient, model and IG tests three times: natively,
/// with <c>DOTNET_EnableAVX512=0</c> (AVX2) and with <c>DOTNET_EnableAVX2=0</c> (128-bit, what ARM64 runs);
/// the first test here fails if a switch did not select the path it names, so a rerun cannot
/// silently test the native path again.
/// </summary>
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class InstructionSetTests
{
    private static bool Disabled(string name) => Environment.GetEnvironmentVariable("DOTNET_" + name) == "0";

    private static bool CpuHas(string flag) =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo")
            .Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Split(' ').Contains(flag));

    [Fact]
    public void TheRuntimeSwitchesSelectThePathTheyName()
    {
        if (Disabled("EnableAVX2"))
        {
            Assert.Equal(GemmKernel.Vector128, Gemm.Best);
            Assert.Equal(4, Vector<float>.Count);
            Assert.False(Vector256.IsHardwareAccelerated);
        }
        else if (Disabled("EnableAVX512") || Disabled("EnableAVX512F"))
        {
            // .NET 10 reads DOTNET_EnableAVX512; DOTNET_EnableAVX512F alone no longer turns AVX-512 off.
            Assert.False(Vector512.IsHardwareAccelerated, "DOTNET_EnableAVX512F=0 alone leaves AVX-512 on in .NET 10: set DOTNET_EnableAVX512=0");
            if (CpuHas("avx2") && CpuHas("fma")) Assert.Equal(GemmKernel.Avx2, Gemm.Best);
        }
        else if (CpuHas("avx512f"))
            Assert.Equal(GemmKernel.Avx512, Gemm.Best);
        else if (CpuHas("avx2") && CpuHas("fma"))
            Assert.Equal(GemmKernel.Avx2, Gemm.Best);
        else if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
            Assert.Equal(GemmKernel.Vector128, Gemm.Best);
        Assert.True(Gemm.IsSupported(Gemm.Best));
        Assert.NotEqual("scalar", Gemm.InstructionSetPath);
    }

    /// <summary>The panel heights this CPU has a vector transpose for (6 on every vector path, 8 with AVX).</summary>
    public static TheoryData<int> PanelHeights => new(new[] { 6, 8 }.Where(Gemm.CanPackRows));

    /// <summary>
    /// The packing transposes against their definition for every column count up to 41 (whole vector
    /// groups, tails, and the early stop that keeps a 6-row panel's overlapping stores inside it), with
    /// a sentinel after the panel that must not be touched.
    /// </summary>
    [Theory]
    [MemberData(nameof(PanelHeights))]
    public unsafe void PackRowsMatchesItsDefinitionAndStaysInsideThePanel(int mr)
    {
        for (int count = 1; count <= 41; count++)
        {
            var data = Random(mr * count, 100 + count);
            var dest = new float[mr * count + 8];
            Array.Fill(dest, float.NaN, mr * count, 8);
            fixed (float* pd = data)
            fixed (float* pdest = dest)
            {
                float** rows = stackalloc float*[mr];
                for (int i = 0; i < mr; i++) rows[i] = pd + i * count;
                Gemm.PackRows(rows, mr, count, pdest);
            }
            for (int j = 0; j < count; j++)
                for (int i = 0; i < mr; i++)
                    Assert.True(dest[j * mr + i] == data[i * count + j], $"mr {mr}, count {count}: column {j} row {i}");
            for (int t = mr * count; t < dest.Length; t++) Assert.True(float.IsNaN(dest[t]), $"mr {mr}, count {count}: wrote past the panel at +{t - mr * count}");
        }
    }

    [Fact]
    public void Transpose4x4SwapsRowsAndColumns()
    {
        var r = Enumerable.Range(0, 4).Select(i => Vector128.Create(i * 4f, i * 4f + 1, i * 4f + 2, i * 4f + 3)).ToArray();
        Gemm.Transpose4x4(r[0], r[1], r[2], r[3], out var c0, out var c1, out var c2, out var c3);
        var columns = new[] { c0, c1, c2, c3 };
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 4; i++)
                Assert.Equal(i * 4f + j, columns[j][i]);
    }
}
