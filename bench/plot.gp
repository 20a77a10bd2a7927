# Capacity chart for `skyload bench capacity`: end-to-end latency percentiles (log scale)
# and stored throughput against offered load. Call: gnuplot -e "dat='F'; outdir='D'" plot.gp
# Columns of F (capacity.dat): offered stored p50 p90 p99 p99.9 ack_p99 aircraft held
if (!exists("dat")) dat = 'capacity.dat'
if (!exists("outdir")) outdir = '.'

set datafile missing '-1.000'
set key top left box opaque
set grid
set xlabel 'offered load (msgs/s)'
set ylabel 'latency from intended time (ms)'
set logscale y
set y2label 'stored (msgs/s)'
set y2tics
set ytics nomirror
set title 'skyload bench capacity: intended -> committed in PostgreSQL (hold window)'

do for [fmt in 'png svg'] {
    if (fmt eq 'png') { set terminal pngcairo size 1000,600 noenhanced } \
    else { set terminal svg size 1000,600 dynamic noenhanced }
    set output outdir.'/capacity.'.fmt
    plot dat using 1:3 with linespoints title 'p50', \
         dat using 1:4 with linespoints title 'p90', \
         dat using 1:5 with linespoints lw 2 title 'p99', \
         dat using 1:6 with linespoints title 'p99.9', \
         dat using 1:7 with linespoints dt 2 title 'Kafka ack p99', \
         dat using 1:2 axes x1y2 with linespoints dt 3 lc rgb 'black' title 'stored msgs/s'
    unset output
}
