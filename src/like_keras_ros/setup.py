from setuptools import find_packages, setup

package_name = "like_keras_ros"

setup(
    name=package_name,
    version="0.1.0",
    description="The ROS 2 transport of like-keras.",
    license="Apache-2.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    python_requires=">=3.10",
    install_requires=["like_keras"],
    extras_require={"test": ["pytest"]},
    zip_safe=True,
    entry_points={"like_keras.transports": ["ros2 = like_keras_ros"]},
)
