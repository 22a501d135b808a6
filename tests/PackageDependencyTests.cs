using System.Reflection;
using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// The CPU libraries must embed without a GPU stack: walking each one's assembly references (and
/// theirs) reaches only the framework, System.Numerics.Tensors, the image codecs (StbImageSharp, StbImageWriteSharp) and other CPU
/// NativeIg libraries. ILGPU is reachable from NativeIg.Gpu alone.
/// </summary>
public class PackageDependencyTests
{
    private static readonly string[] CpuLibraries = ["NativeIg.Tensors", "NativeIg.Autodiff", "NativeIg.InceptionV1", "NativeIg.Onnx", "NativeIg.Ig"];
    private static readonly string[] AllowedOutsideTheFramework = [.. CpuLibraries, "System.Numerics.Tensors", "StbImageSharp", "StbImageWriteSharp"];

    /// <summary>Every assembly reachable from <paramref name="root"/> that does not ship with .NET itself.</summary>
    private static SortedSet<string> Closure(string root)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<AssemblyName>([new AssemblyName(root)]);
        while (pending.TryPop(out var name))
        {
            if (IsFramework(name.Name!) || !seen.Add(name.Name!)) continue;
            foreach (var reference in Assembly.Load(name).GetReferencedAssemblies()) pending.Push(reference);
        }
        return seen;
    }

    // System.Numerics.Tensors is a NuGet package on net10.0 (not in the shared framework), so it is named, not skipped.
    private static bool IsFramework(string name) =>
        name is "mscorlib" or "netstandard" || (name.StartsWith("System", StringComparison.Ordinal) && name != "System.Numerics.Tensors")
        || name.StartsWith("Microsoft.", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Libraries))]
    public void CpuLibraryReachesNoGpuOrNativePackage(string library)
    {
        var closure = Closure(library);
        Assert.Contains(library, closure);
        var extra = closure.Except(AllowedOutsideTheFramework).ToArray();
        Assert.True(extra.Length == 0, $"{library} reaches {string.Join(", ", extra)}; a CPU package may reach only {string.Join(", ", AllowedOutsideTheFramework)}.");
    }

    public static TheoryData<string> Libraries() => [.. CpuLibraries];

    [Fact]
    public void TheGpuBackendIsWhereIlgpuIs()
    {
        var closure = Closure("NativeIg.Gpu");
        Assert.Contains("ILGPU", closure);
        Assert.Contains("NativeIg.Tensors", closure);
        // and it is the only way in: the engine names the device contract, not the backend
        Assert.DoesNotContain(CpuLibraries, l => Closure(l).Contains("NativeIg.Gpu"));
    }
}
