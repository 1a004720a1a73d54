"""Awards, standstill and objections, test contracts and signatures."""
