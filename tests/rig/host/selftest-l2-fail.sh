host_prepare() { rig_random >"$RIG_DATA/token"; }
