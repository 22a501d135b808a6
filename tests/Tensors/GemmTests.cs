using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 33, 7 }, { 7, 1, 300 }, { 13, 17, 19 }, { 8, 32, 256 }, { 9, 33, 257 },
        { 100, 47, 513 }, { 97, 130, 5 }, { 193, 64, 64 }, { 6, 16, 1 }, { 250, 300, 100 },
    };

    public static IEnumerable<GemmKernel> Kernels => Enum.GetValues<GemmKernel>().Where(Gemm.IsSupported);

    /// <summary>Every supported micro-kernel, every transpose, with and without accumulation, against the triple loop.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastMatchesReference(int m, int n, int k)
    {
        foreach (var kernel in Kernels)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var a = Random(m * k, 1 + m);
                        var b = Random(k * n, 2 + n);
                        var c0 = Random(m * n, 3);
                        var fast = (float[])c0.Clone();
                        var reference = (float[])c0.Clone();
                        Gemm.Multiply(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, fast, n, accumulate, kernel);
                        GemmReference.Multiply(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, reference, n, accumulate);
                        AssertClose(reference, fast, 1e-6, DotTolerance(k), $"{kernel} {m}×{n}×{k} tA={transA} tB={transB} acc={accumulate}");
                    }
    }

    [Fact]
    public void LeadingDimensionsLargerThanTheMatrixAreHonoured()
    {
        int m = 5, n = 7, k = 9, lda = 12, ldb = 10, ldc = 11;
        var a = Random(m * lda, 4); var b = Random(k * ldb, 5);
        var fast = new float[m * ldc]; var reference = new float[m * ldc];
        Gemm.Multiply(m, n, k, a, lda, false, b, ldb, false, fast, ldc);
        GemmReference.Multiply(m, n, k, a, lda, false, b, ldb, false, reference, ldc);
        AssertClose(reference, fast, 1e-6, DotTolerance(k), "strided GEMM");
    }

    [Fact]
    public void UndersizedOperandsThrowNamingTheOperand()
    {
        var a = new float[10]; var b = new float[12]; var c = new float[12];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(3, 4, 4, a, 4, false, b, 4, false, c, 4));
        Assert.Contains("operand A", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(3, 4, 3, new float[9], 3, false, b, 4, false, new float[11], 4));
        Assert.Contains("operand C", e.Message);
    }
}
