namespace NativeIg.Tensors.IO;

/// <summary>
/// Writes a set of output files so that a reader never sees a half-written one and an interrupted run
/// leaves the previous set intact: each file goes to a temporary name in its own folder, and only
/// <see cref="Commit"/> renames them all into place (a rename within a folder replaces the old file
/// in one step). Disposing without committing deletes the temporary files.
/// </summary>
public sealed class AtomicFiles : IDisposable
{
    private readonly List<(string Temporary, string Final)> _pending = [];

    /// <summary>Writes one file through <paramref name="write"/> under a temporary name beside <paramref name="path"/>.</summary>
    public void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(directory);
        RemoveStale(directory, Path.GetFileName(full));
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        _pending.Add((temporary, full));
        using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        write(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Deletes the temporary files of <paramref name="fileName"/> that a killed process (SIGKILL, power loss)
    /// left behind: <c>.NAME.PID.GUID.tmp</c> whose PID runs no process now. A live writer's are kept.
    /// </summary>
    private static void RemoveStale(string directory, string fileName)
    {
        string[] candidates;
        try { candidates = Directory.GetFiles(directory, $".{fileName}.*.tmp"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var candidate in candidates)
        {
            var parts = Path.GetFileName(candidate)[(fileName.Length + 2)..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(candidate); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Renames every written file to its final name.</summary>
    public void Commit()
    {
        foreach (var (temporary, final) in _pending) File.Move(temporary, final, overwrite: true);
        _pending.Clear();
    }

    /// <summary>Deletes the temporary files of anything not committed.</summary>
    public void Dispose()
    {
        foreach (var (temporary, _) in _pending)
        {
            try { File.Delete(temporary); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        _pending.Clear();
    }

    /// <summary>One file written atomically: a temporary name, then a rename.</summary>
    public static void WriteOne(string path, Action<Stream> write)
    {
        using var files = new AtomicFiles();
        files.Write(path, write);
        files.Commit();
    }

    /// <summary>
    /// Throws <see cref="IOException"/> unless files can be created in <paramref name="directory"/>
    /// (creating it if needed): checked before long work so that an unwritable output fails at once.
    /// </summary>
    public static void RequireWritableDirectory(string directory)
    {
        if (File.Exists(directory)) throw new IOException($"{directory}: is a file; an output folder is needed.");
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".nativeig-write-test.{Environment.ProcessId}.{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (UnauthorizedAccessException e) { throw new IOException($"{directory}: cannot write there ({e.Message}).", e); }
        catch (IOException e) when (e is not FileNotFoundException) { throw new IOException($"{directory}: cannot write there ({e.Message}).", e); }
    }
}
