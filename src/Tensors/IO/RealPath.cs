namespace NativeIg.Tensors.IO;

/// <summary>
/// Paths with every symbolic link resolved, component by component (what POSIX <c>realpath</c> gives),
/// so that a containment check sees where a file really is: <see cref="Path.GetFullPath(string)"/> only
/// removes "." and ".." as text, and a link inside a folder can point anywhere.
/// </summary>
public static class RealPath
{
    /// <summary>More links than this while resolving one path is a loop (Linux's own limit is 40).</summary>
    public const int MaxLinks = 40;

    /// <summary>
    /// The absolute path of <paramref name="path"/> with every link resolved. Components that do not
    /// exist are kept as written. A chain of more than <see cref="MaxLinks"/> links is an <see cref="IOException"/>.
    /// </summary>
    public static string Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "/";
        var pending = new List<string>(Split(full[root.Length..]));
        pending.Reverse(); // a stack: the next component is at the end
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            var part = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            var next = Path.Join(current, part);
            string? target = null;
            try { target = new FileInfo(next).LinkTarget; }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"{path}: more than {MaxLinks} symbolic links (a loop?).");
            if (Path.IsPathRooted(target))
            {
                root = Path.GetPathRoot(target) ?? root;
                current = root;
                target = target[root.Length..];
            }
            var parts = Split(target);
            for (int i = parts.Length - 1; i >= 0; i--) pending.Add(parts[i]);
        }
        return current;
    }

    /// <summary>
    /// True when <paramref name="path"/>, links resolved, is <paramref name="folder"/> (links resolved)
    /// or lies below it.
    /// </summary>
    public static bool IsInside(string path, string folder)
    {
        var real = Resolve(path);
        var realFolder = Resolve(folder).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        return real.StartsWith(realFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string[] Split(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
