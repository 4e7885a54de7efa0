module example.invalid/kubedoctor-lab-inject

go 1.22
