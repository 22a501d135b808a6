using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Item 5: outputs are written to temporary names and renamed together.</summary>
public class AtomicOutputTests
{
    [Fact]
    public void AnUncommittedSetLeavesTheOldFilesAndNoTemporaries()
    {
        var dir = TempDir();
        var a = Path.Combine(dir, "a.png");
        File.WriteAllText(a, "old a");
        using (var files = new AtomicFiles())
        {
            files.Write(a, s => s.Write("new a"u8));
            files.Write(Path.Combine(dir, "b.npy"), s => s.Write("new b"u8));
            Assert.Equal("old a", File.ReadAllText(a)); // nothing visible before the commit
        }
        Assert.Equal("old a", File.ReadAllText(a));
        Assert.Equal(["a.png"], Directory.GetFiles(dir).Select(f => Path.GetFileName(f)).ToArray());
    }

    [Fact]
    public void AWriteThatThrowsLeavesTheOldFileWhole()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "x.npy");
        NativeIg.Tensors.IO.Npy.Write(path, [1f, 2f], [2]);
        var before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => AtomicFiles.WriteOne(path, s => { s.Write(new byte[100]); throw new InvalidOperationException("interrupted"); }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void CommittedFilesReplaceTheOldOnes()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "x.npy");
        NativeIg.Tensors.IO.Npy.Write(path, [1f, 2f], [2]);
        NativeIg.Tensors.IO.Npy.Write(path, [3f, 4f, 5f], [3]);
        using var t = NativeIg.Tensors.IO.Npy.Read(path);
        Assert.Equal([3f, 4f, 5f], t.ToArray());
        Assert.Single(Directory.GetFiles(dir));
    }
}
