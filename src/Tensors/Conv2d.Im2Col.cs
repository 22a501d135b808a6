namespace NativeIg.Tensors;

/// <summary>
/// Implicit im2col: row p of the virtual column matrix is output pixel p (n, oy, ox); column k is the
/// filter tap (kh, kw, ci), ci innermost. Values outside the input read as zero padding.
/// </summary>
internal readonly unsafe struct Im2ColA(float* x, WindowGeometry g) : IPackA
{
    public void Pack(int i0, int rows, int k0, int kc, int mr, float* dest)
    {
        if (mr > 1 && g.KernelW * g.C >= 8 && Gemm.CanPackRows(mr))
        {
            PackTransposed(i0, rows, k0, kc, mr, dest);
            return;
        }
        if (mr == 1)
        {
            PackOneRow(i0, k0, kc, dest);
            return;
        }
        int c = g.C;
        int outPlane = g.OutH * g.OutW;
        for (int i = 0; i < rows; i++)
        {
            int p = i0 + i;
            int n = p / outPlane, r = p - n * outPlane;
            int oy = r / g.OutW, ox = r - oy * g.OutW;
            int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
            float* image = x + (long)n * g.H * g.W * c;
            int k = k0, kEnd = k0 + kc;
            int tap = k / c, ci = k - tap * c;
            int kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
            float* d = dest + i;
            while (k < kEnd)
            {
                int run = Math.Min(c - ci, kEnd - k);
                int iy = iy0 + kh, ix = ix0 + kw;
                if ((uint)iy < (uint)g.H && (uint)ix < (uint)g.W)
                {
                    float* src = image + ((long)iy * g.W + ix) * c + ci;
                    for (int j = 0; j < run; j++) d[j * mr] = src[j];
                }
                else
                {
                    for (int j = 0; j < run; j++) d[j * mr] = 0f;
                }
                d += run * mr;
                k += run;
                ci = 0;
                if (++kw == g.KernelW) { kw = 0; kh++; }
            }
        }
        for (int i = rows; i < mr; i++)
            for (int k = 0; k < kc; k++) dest[k * mr + i] = 0f;
    }
    [ThreadStatic] private static float[]? t_borderRows;

    /// <summary>
    /// One row of the column matrix, row-major (the materialised form the filter gradient multiplies):
    /// each kernel row's KW·C values are one contiguous copy, or zeros where the window leaves the image.
    /// </summary>
    private void PackOneRow(int p, int k0, int kc, float* dest)
    {
        int c = g.C, outPlane = g.OutH * g.OutW;
        int n = p / outPlane, r = p - n * outPlane;
        int oy = r / g.OutW, ox = r - oy * g.OutW;
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        float* image = x + (long)n * g.H * g.W * c;
        int k = k0, kEnd = k0 + kc;
        while (k < kEnd)
        {
            int tap = k / c, ci = k - tap * c;
            int kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
            int iy = iy0 + kh, ix = ix0 + kw;
            // The run of this tap's channels, extended over the next taps of the kernel row while they stay inside the image.
            int run = Math.Min(c - ci, kEnd - k);
            var to = new Span<float>(dest + (k - k0), run);
            if ((uint)iy < (uint)g.H && (uint)ix < (uint)g.W)
            {
                int more = Math.Min(g.KernelW - 1 - kw, g.W - 1 - ix);
                if (more > 0) { run = Math.Min(run + more * c, kEnd - k); to = new Span<float>(dest + (k - k0), run); }
                new ReadOnlySpan<float>(image + ((long)iy * g.W + ix) * c + ci, run).CopyTo(to);
            }
            else to.Clear();
            k += run;
        }
    }

    /// <summary>
    /// The mr-row panel one kernel row at a time: in NHWC the KW·C values of kernel row kh under an
    /// output pixel are contiguous in x (for conv1, 7 taps × 3 channels = 21 floats), so each of the
    /// mr rows is a pointer into x — or, where the window hangs over the border, into a copy with
    /// zeros — and <see cref="Gemm.PackRows"/> transposes them into the panel.
    /// </summary>
    private void PackTransposed(int i0, int rows, int k0, int kc, int mr, float* dest)
    {
        int c = g.C, outPlane = g.OutH * g.OutW, rowLength = g.KernelW * c;
        var border = t_borderRows;
        if (border is null || border.Length < mr * rowLength) t_borderRows = border = GC.AllocateUninitializedArray<float>(mr * rowLength, pinned: true);
        float** images = stackalloc float*[mr];
        int* iy0 = stackalloc int[mr];
        int* ix0 = stackalloc int[mr];
        float** sources = stackalloc float*[mr];
        float* zeros = Gemm.ZeroRow(rowLength);
        for (int i = 0; i < mr; i++)
        {
            int p = i0 + Math.Min(i, rows - 1);
            int n = p / outPlane, r = p - n * outPlane;
            int oy = r / g.OutW, ox = r - oy * g.OutW;
            images[i] = x + (long)n * g.H * g.W * c;
            iy0[i] = i < rows ? oy * g.StrideH - g.PadTop : int.MinValue / 2; // rows past the end read zeros
            ix0[i] = ox * g.StrideW - g.PadLeft;
        }
        fixed (float* borderBase = border)
        {
            int k = k0, kEnd = k0 + kc;
            float* d = dest;
            while (k < kEnd)
            {
                int kh = k / rowLength, offset = k - kh * rowLength;
                int run = Math.Min(rowLength - offset, kEnd - k);
                for (int i = 0; i < mr; i++)
                {
                    int iy = iy0[i] + kh, ix = ix0[i];
                    if ((uint)iy >= (uint)g.H) { sources[i] = zeros; continue; }
                    float* line = images[i] + (long)iy * g.W * c;
                    if (ix >= 0 && ix + g.KernelW <= g.W) { sources[i] = line + ix * c + offset; continue; }
                    float* copy = borderBase + i * rowLength;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        var to = new Span<float>(copy + kw * c, c);
                        if ((uint)(ix + kw) < (uint)g.W) new ReadOnlySpan<float>(line + (ix + kw) * c, c).CopyTo(to);
                        else to.Clear();
                    }
                    sources[i] = copy + offset;
                }
                Gemm.PackRows(sources, mr, run, d);
                d += run * mr;
                k += run;
            }
        }
    }
}
