using System.Diagnostics;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>
/// A tmpfs of a few MiB mounted on a directory, to run out of disk for real. Mounting needs root
/// (CI and this machine have it); where it is refused, <see cref="TryMountAsync"/> says so in one
/// line and returns null, and the test has nothing to check.
/// </summary>
internal sealed class SmallFileSystem : IAsyncDisposable
{
    private SmallFileSystem(string path) => Path = path;

    public string Path { get; }

    public static async Task<SmallFileSystem?> TryMountAsync(string path, int mebibytes)
    {
        Directory.CreateDirectory(path);
        using var mount = Process.Start(new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", path]) { RedirectStandardError = true })!;
        await mount.WaitForExitAsync();
        if (mount.ExitCode != 0)
        {
            Console.WriteLine($"Cannot run here: mounting a {mebibytes} MiB file system needs root ({(await mount.StandardError.ReadToEndAsync()).Trim()}).");
            return null;
        }

        return new SmallFileSystem(path);
    }

    public async ValueTask DisposeAsync()
    {
        using var unmount = Process.Start("umount", [Path]);
        await unmount.WaitForExitAsync();
    }
}
