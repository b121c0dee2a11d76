"""`make bench` (`python -m bench`): how much Provisioner costs beyond the ERPNext calls it must make,
and how its dashboard queries hold up at scale. See bench/README.md for what each figure means."""
