#!/usr/bin/env bash
# Compiles and runs, as written, every C# block of README.md and docs/*.md that is marked
#   <!-- runnable: ... -->
# on the line before its ```csharp fence: each becomes Program.cs of a new console app that takes
# NativeIg.Ig and NativeIg.InceptionV1 from the packed feed (as a user's app would), built in its own
# package folder, then run with the example photo as its argument.
#   bash .ci/readme-snippets.sh FEED VERSION IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."
feed=$1 version=$2 image=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=0
for doc in README.md docs/*.md; do
  # awk prints each runnable block to its own file: $work/<doc>-<n>.cs
  awk -v out="$work/$(basename "$doc" .md)" '
    /^<!-- runnable:/ { armed = 1; next }
    armed && /^```csharp/ { n++; file = out "-" n ".cs"; inside = 1; armed = 0; next }
    inside && /^```/ { inside = 0; close(file); next }
    inside { print > file; next }
    { armed = 0 }' "$doc"
done
for snippet in "$work"/*.cs; do
  [ -e "$snippet" ] || continue
  name=$(basename "$snippet" .cs)
  app="$work/app-$name"
  mkdir -p "$app"
  cp "$snippet" "$app/Program.cs"
  cat >"$app/Snippet.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <RestoreAdditionalProjectSources>$feed</RestoreAdditionalProjectSources>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="NativeIg.Ig" Version="$version" />
    <PackageReference Include="NativeIg.InceptionV1" Version="$version" />
  </ItemGroup>
</Project>
PROJ
  # Outside the repository, so that no Directory.Build.props or project of ours is picked up.
  if ! NUGET_PACKAGES="$work/packages" dotnet build "$app" -c Release -o "$app/bin" >"$app/build.log" 2>&1; then
    cat "$app/build.log"; echo "snippet $name: does not compile"; exit 1
  fi
  if ! (cd "$app" && dotnet bin/Snippet.dll "$image") >"$app/run.log" 2>&1; then
    cat "$app/run.log"; echo "snippet $name: failed when run"; exit 1
  fi
  echo "snippet $name: compiled and ran ($(tail -n 1 "$app/run.log"))"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no runnable snippet found"; exit 1; }
echo "readme snippets: ok ($count compiled and ran)"
