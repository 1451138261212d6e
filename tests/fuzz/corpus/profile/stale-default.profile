memvirt-cost-profile 1
cost.pv_emulate = 1500 status=default method="old"
# cost.cpi = 1 status=default (not measured; the compiled default applies): why
cost.syscall = 600 status=measured
