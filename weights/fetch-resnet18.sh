#!/usr/bin/env bash
# Fetches ML.NET's ResNet-18 featurizer (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18, MIT; ~60 MB)
# the way a .NET user gets it — a package restore — and prints the folder holding ResNet18.onnx and
# ResNetPreprocess.onnx. Nothing is copied into the repository.
set -euo pipefail
version=0.23.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/fetch.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NoWarn>NU1603</NoWarn></PropertyGroup>
  <ItemGroup><PackageReference Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="$version" /></ItemGroup>
</Project>
PROJECT
dotnet restore "$tmp/fetch.csproj" >&2
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
echo "$packages/microsoft.ml.dnnimagefeaturizer.resnet18/$version/tools/DnnImageModels"
