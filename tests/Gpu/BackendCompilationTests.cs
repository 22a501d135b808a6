using ILGPU;
using ILGPU.Runtime;
using NativeIg.Gpu;
using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// Every kernel through ILGPU's PTX backend for the H100 (sm_90), with no GPU needed: catches what the
/// CPU accelerator accepts but the CUDA backend does not, and checks that the register-blocked tiles
/// really stay in registers (no local-memory spills) with their 8 slab steps unrolled.
/// </summary>
public class BackendCompilationTests
{
    private static string CompileToPtx(ILGPU.Context context, System.Reflection.MethodInfo kernel)
    {
        var backend = new ILGPU.Backends.PTX.PTXBackend(context, new ILGPU.Runtime.Cuda.CudaCapabilityContext(ILGPU.Runtime.Cuda.CudaArchitecture.SM_90),
            ILGPU.Runtime.Cuda.CudaArchitecture.SM_90, ILGPU.Runtime.Cuda.CudaInstructionSet.ISA_80, null);
        bool implicitGroups = kernel.GetParameters()[0].ParameterType == typeof(Index1D);
        var entry = implicitGroups
            ? ILGPU.Backends.EntryPoints.EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : ILGPU.Backends.EntryPoints.EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        return ((ILGPU.Backends.PTX.PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization))).PTXAssembly;
    }

    [Fact]
    public void EveryKernelCompilesForCudaAndTheTilesStayInRegisters()
    {
        using var context = Context.Create(builder => ILGPU.Runtime.Cuda.CudaContextExtensions.Cuda(builder).EnableAlgorithms());
        var kernels = Kernels();
        Assert.True(kernels.Length >= 30, $"found only {kernels.Length} kernels");
        foreach (var kernel in kernels)
        {
            var ptx = CompileToPtx(context, kernel);
            Assert.Contains(".entry", ptx);
            if (kernel.Name is "GemmKernel" or "ConvKernel" or "ConvBackwardFilterKernel")
            {
                Assert.DoesNotContain("ld.local", ptx);
                Assert.DoesNotContain("st.local", ptx);
                int sharedReads = ptx.Split("ld.shared.f32").Length - 1;
                Assert.True(sharedReads >= 8 * 12, $"{kernel.Name}: {sharedReads} shared reads; the 8 slab steps of 12 reads each should be unrolled");
            }
        }
    }

    /// <summary>The same for ILGPU's OpenCL C backend (OpenCL 2.0 with float64, which IG's path integral uses).</summary>
    [Fact]
    public void EveryKernelCompilesForOpenCl()
    {
        using var context = Context.Create(builder => ILGPU.Runtime.OpenCL.CLContextExtensions.OpenCL(builder).EnableAlgorithms());
        var backend = new ILGPU.Backends.OpenCL.CLBackend(context,
            new ILGPU.Runtime.OpenCL.CLCapabilityContext(float16: false, float64: true, genericAddressSpace: true, int64_Atomics: true, subGroups: false),
            ILGPU.Runtime.OpenCL.CLDeviceVendor.Other, ILGPU.Backends.OpenCL.CLCVersion.CL20);
        foreach (var kernel in Kernels())
        {
            bool implicitGroups = kernel.GetParameters()[0].ParameterType == typeof(Index1D);
            var entry = implicitGroups
                ? ILGPU.Backends.EntryPoints.EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
                : ILGPU.Backends.EntryPoints.EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
            var source = ((ILGPU.Backends.OpenCL.CLCompiledKernel)backend.Compile(entry, default(KernelSpecialization))).Source;
            Assert.Contains("kernel", source);
        }
    }

    private static System.Reflection.MethodInfo[] Kernels() =>
        typeof(GpuKernels).GetMethods(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)).ToArray();
}
